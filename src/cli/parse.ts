// virtables parse [FILE|-] [--format save|json] [--counters]

import { UsageError } from '../model/errors.js';
import { formatDump } from '../write/save.js';
import { oneOf, parseCommandArgs } from './args.js';
import { readDump } from './inputs.js';
import type { Io } from './io.js';
import { dumpToJson } from './json.js';

export const help = `Usage: virtables parse [FILE|-] [--format save|json] [--counters]

Reads an iptables-save or ip6tables-save dump (any iptables era from 1.3.x to 1.8.x,
legacy or nft) and prints it back in canonical form: exactly what iptables 1.8.9 would
print after loading it with iptables-restore.

  FILE              the dump; '-' or nothing reads standard input
  --format save     canonical iptables-save text (default)
  --format json     the parsed model: tables, chains, rules with positions
  --counters        keep [packets:bytes] counters on rules (like iptables-save -c)
  -h, --help        this text

Exit status: 0 parsed, 2 bad input or usage (the message names FILE:LINE:COL).
`;

interface Values {
  help?: boolean;
  format?: string;
  counters?: boolean;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs<Values>('parse', argv, {
    format: { type: 'string', short: 'f' },
    counters: { type: 'boolean', short: 'c' },
  });
  if (values.help) {
    io.stdout(help);
    return 0;
  }
  const format = oneOf('parse', '--format', values.format, ['save', 'json'] as const, 'save');
  if (positionals.length > 1) throw new UsageError('parse: give one dump (or - for standard input)');
  const file = positionals[0] ?? '-';
  const dump = readDump(file, io);
  io.stdout(format === 'json' ? JSON.stringify(dumpToJson(dump), null, 2) + '\n' : formatDump(dump, { counters: values.counters === true }));
  return 0;
}
