// virtables parse [DUMP|-] [--format save|nft|json] [--counters]

import { InputError, UsageError } from '../model/errors.js';
import { canonicalNft } from '../model/nft-canonical.js';
import { formatNftJson } from '../write/nft-json.js';
import { formatNftText, NftPrintError } from '../write/nft-text.js';
import { writeDump } from '../write/save.js';
import { oneOf, parseCommandArgs } from './args.js';
import { kindName, positionIn } from '../input/read.js';
import { listingNote } from '../input/listing.js';
import { readDumpInput } from './inputs.js';
import type { Io } from './io.js';
import { dumpToJson } from './json.js';

export const help = `Usage: virtables parse [DUMP|-] [--format save|nft|json] [--counters]

Reads a dump and prints it back in canonical form. The kind is told from the content:
  iptables-save / ip6tables-save (any iptables era from 1.3.x to 1.8.x, legacy or nft):
    printed exactly as iptables 1.8.9 would after loading it with iptables-restore;
  nft list ruleset text, or nft -j list ruleset JSON:
    printed exactly as nft 1.0.6 lists it after loading it with nft -f.
An empty file holds no tables and prints nothing.

  DUMP              the dump; '-' or nothing reads standard input
  --format save     canonical iptables-save text (iptables input: the default)
  --format nft      canonical nft text (nft input: the default)
  --format json     iptables: the parsed model with positions (docs/json.md);
                    nft: the ruleset as nft -j list ruleset prints it
  --counters        keep [packets:bytes] counters on iptables rules (like iptables-save -c)
  -h, --help        this text

Exit status: 0 parsed, 2 bad input or usage (the message names FILE:LINE:COL, or the JSON
element's path).
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
  if (positionals.length > 1) throw new UsageError('parse: give one dump (or - for standard input)');
  const file = positionals[0] ?? '-';
  const input = readDumpInput('parse', file, io);
  const nft = input.nft !== null;
  const format = oneOf('parse', '--format', values.format, ['save', 'nft', 'json'] as const, nft ? 'nft' : 'save');
  const name = file === '-' ? 'standard input' : file;
  if (input.kind === 'empty') {
    io.stdout(format === 'json' ? JSON.stringify({ file, kind: 'empty', tables: [] }, null, 2) + '\n' : '');
    return 0;
  }
  if (input.nft) {
    if (format === 'save')
      throw new UsageError(
        `parse: ${name} is ${kindName(input.kind)}; --format save prints iptables-save (use --format nft or json)`,
      );
    const ruleset = canonicalNft(input.nft);
    try {
      io.stdout(format === 'json' ? formatNftJson(ruleset) : formatNftText(ruleset, { strict: true }));
    } catch (e) {
      if (e instanceof NftPrintError) {
        const at = positionIn(input, e.pos);
        throw new InputError(file, at.line, at.col, `${at.path ? `${at.path}: ` : ''}${e.message}`);
      }
      throw e;
    }
    return 0;
  }
  if (format === 'nft')
    throw new UsageError(
      `parse: ${name} is ${kindName(input.kind)}; --format nft prints nft rulesets (use --format save or json)`,
    );
  const dump = input.dump!;
  const note = listingNote(dump);
  if (note && !io.quiet) io.stderr(`virtables parse: note: ${note}\n`);
  // Written in chunks of at most 64 KiB: the canonical text of a big dump is never one string.
  if (format === 'json') io.stdout(JSON.stringify(dumpToJson(dump), null, 2) + '\n');
  else writeDump(dump, io.stdout, { counters: values.counters === true });
  return 0;
}
