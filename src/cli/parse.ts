// virtables parse [DUMP|-] [--format save|nft|json] [--counters]

import { InputError, UsageError } from '../model/errors.js';
import { canonicalNft } from '../model/nft-canonical.js';
import { formatNftJson } from '../write/nft-json.js';
import { formatNftText, NftPrintError } from '../write/nft-text.js';
import { formatDump } from '../write/save.js';
import type { Args } from './spec.js';
import { kindName, positionIn } from '../input/read.js';
import { listingNote } from '../input/listing.js';
import { readDumpInput } from './inputs.js';
import type { Io } from './io.js';
import { dumpToJson } from './json.js';

export async function run({ values, positionals }: Args<'parse'>, io: Io): Promise<number> {
  if (positionals.length > 1) throw new UsageError('parse: give one dump (or - for standard input)');
  const file = positionals[0] ?? '-';
  const input = readDumpInput('parse', file, io);
  const nft = input.nft !== null;
  const format = values.format ?? (nft ? 'nft' : 'save');
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
  io.stdout(
    format === 'json'
      ? JSON.stringify(dumpToJson(dump), null, 2) + '\n'
      : formatDump(dump, { counters: values.counters === true }),
  );
  return 0;
}
