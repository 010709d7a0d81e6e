// virtables diff BEFORE AFTER [--net X.xml…] [--format text|json]

import { networksFromDefinitions } from '../explain/attribute.js';
import { diffHosts } from '../diff/host-report.js';
import { hostNetworks } from '../explain/host-report.js';
import { diffText } from '../diff/text.js';
import { UsageError } from '../model/errors.js';
import type { Args } from './spec.js';
import { readHost, readNetworkInputs } from './inputs.js';
import type { Io } from './io.js';
import { styleFor } from './style.js';

export async function run({ values, positionals }: Args<'diff'>, io: Io): Promise<number> {
  const format = values.format ?? 'text';
  if (positionals.length !== 2)
    throw new UsageError(`diff: give two dumps, BEFORE and AFTER (got ${positionals.length})`);
  if (positionals[0] === '-' && positionals[1] === '-')
    throw new UsageError("diff: standard input ('-') can be read only once");
  const given = networksFromDefinitions(readNetworkInputs('diff', values.net ?? [], io));
  const before = readHost('diff', [positionals[0]!], io);
  const after = readHost('diff', [positionals[1]!], io);
  const report = diffHosts(before, after, hostNetworks([before, after], given));
  io.stdout(format === 'json' ? JSON.stringify(report, null, 2) + '\n' : diffText(report, styleFor(io)));
  return 0;
}
