// virtables parse [DUMP|-] [--format save|nft|json] [--counters] [--family ipv4|ipv6]
// virtables parse --check FILE… [--format text|json] [--family ipv4|ipv6]

import { parseSaveBytes } from '../../grammar/iptables-save.js';
import type { Family, Note } from '../model/dump.js';
import { InputError, UsageError } from '../model/errors.js';
import { canonicalNft } from '../model/nft-canonical.js';
import { formatNftJson } from '../write/nft-json.js';
import { formatNftText, NftPrintError } from '../write/nft-text.js';
import { PrintedRules, writeDump } from '../write/save.js';
import type { Args } from './spec.js';
import { kindName, positionIn } from '../input/read.js';
import { listingNote } from '../input/listing.js';
import { readDumpInput } from './inputs.js';
import type { Io } from './io.js';
import { writeDumpJson } from './json.js';

export async function run({ values, positionals }: Args<'parse'>, io: Io): Promise<number> {
  const family = values.family;
  if (values.check) {
    if (values.format !== undefined && values.format !== 'text' && values.format !== 'json')
      throw new UsageError(`parse: --check prints text or json, not --format ${values.format}`);
    return check(positionals.length > 0 ? positionals : ['-'], values.format ?? 'text', family, io);
  }
  if (values.format === 'text') throw new UsageError('parse: --format text is for --check (use save, nft or json)');
  if (positionals.length > 1)
    throw new UsageError('parse: give one dump (or - for standard input), or use --check for several');
  const file = positionals[0] ?? '-';
  if (family) {
    // The family given: the file is an iptables dump, read as that family's restore would.
    if (values.format === 'nft')
      throw new UsageError('parse: --family reads an iptables dump; --format nft prints nft rulesets');
    const printed = values.format !== 'json' && values.counters !== true ? new PrintedRules() : undefined;
    const dump = parseSaveBytes(io.readBytes(file), { file, family, sink: printed });
    if (values.format === 'json') writeDumpJson(dump, io.stdout);
    else writeDump(dump, io.stdout, { counters: values.counters === true, printed });
    return 0;
  }
  // Read only to be printed as iptables-save: the rules are kept as the text printed, not as the model.
  const printed = (values.format ?? 'save') === 'save' && values.counters !== true ? new PrintedRules() : undefined;
  const input = readDumpInput('parse', file, io, printed);
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
  // Written in chunks of at most 64 KiB: the text (and the JSON objects) of a big dump are never whole.
  if (format === 'json') writeDumpJson(dump, io.stdout);
  else writeDump(dump, io.stdout, { counters: values.counters === true, printed });
  return 0;
}

/** The family a file name suggests (ip6tables-save.txt, rules.v6), when its content does not say. */
export function familyFromName(path: string): Family | undefined {
  const base = path.split('/').pop() ?? path;
  if (/ip6tables|ipv6|\.v6$|rules6/i.test(base)) return 'ipv6';
  return undefined;
}

interface FileReport {
  readonly file: string;
  readonly ok: boolean;
  readonly errors: ReadonlyArray<{ line: number; col: number; message: string }>;
  readonly notes: readonly Note[];
}

function check(files: readonly string[], format: 'text' | 'json', family: Family | undefined, io: Io): number {
  const reports: FileReport[] = [];
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = io.readBytes(file);
    } catch (e) {
      if (e instanceof InputError || e instanceof UsageError) {
        reports.push({ file, ok: false, errors: [{ line: 0, col: 0, message: e.message }], notes: [] });
        continue;
      }
      throw e;
    }
    try {
      const dump = parseSaveBytes(bytes, { file, strict: true, family: family ?? familyFromName(file) });
      reports.push({ file, ok: true, errors: [], notes: dump.notes ?? [] });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      reports.push({ file, ok: false, errors: [{ line: e.line, col: e.col, message: e.detail }], notes: [] });
    }
  }
  if (format === 'json') {
    io.stdout(
      JSON.stringify(
        {
          files: reports.map((r) => ({
            ...r,
            notes: r.notes.map((n) => ({ line: n.line, col: n.col, kind: n.kind, message: n.message })),
          })),
        },
        null,
        2,
      ) + '\n',
    );
  } else {
    for (const r of reports) {
      for (const e of r.errors)
        io.stderr(e.line > 0 ? `${r.file}:${e.line}:${e.col}: error: ${e.message}\n` : `${e.message}\n`);
      for (const n of r.notes) io.stderr(`${r.file}:${n.line}:${n.col}: note: ${n.message}\n`);
    }
  }
  return reports.every((r) => r.ok) ? 0 : 2;
}
