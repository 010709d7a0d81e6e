// virtables net FILE… [--format table|json]

import { UsageError } from '../model/errors.js';
import { networkJson, networkTable } from '../network/report.js';
import { readNetworkInputs } from './inputs.js';
import type { Args } from './spec.js';
import type { Io } from './io.js';

export async function run({ values, positionals }: Args<'net'>, io: Io): Promise<number> {
  const format = values.format ?? 'table';
  if (positionals.length === 0) throw new UsageError('net: give one or more network files (or - for standard input)');

  const networks = readNetworkInputs('net', positionals, io);

  io.stdout(
    format === 'json'
      ? JSON.stringify({ networks: networks.map(networkJson) }, null, 2) + '\n'
      : networks.map(networkTable).join('\n'),
  );
  return 0;
}
