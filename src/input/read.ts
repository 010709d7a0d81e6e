// Reading one dump of any kind virtables knows, recognised by its content: iptables-save and
// ip6tables-save, nft text and nft JSON; an empty file holds no tables (it is not an IPv4 dump
// with ACCEPT policies). src/cli/inputs.ts reads files, standard input and directories with it.

import { parseSave, type RuleSink } from '../../grammar/iptables-save.js';
import { parseNftJson } from '../../grammar/nft-json.js';
import { parseNftText } from '../../grammar/nft.js';
import type { Dump } from '../model/dump.js';
import { InputError, UsageError } from '../model/errors.js';
import type { HostInputKind } from '../model/host.js';
import { isTextPos, type NftPos, type NftRuleset } from '../model/nft.js';
import { lineColOf, offsetOfJsonPath, parseJsonPath } from '../../grammar/json-path.js';
import { dumpFromListing } from './listing.js';
import { KIND_NAMES, sniff } from './sniff.js';

/** One input read: what it was, and what it held. */
export interface DumpInput {
  readonly file: string;
  readonly kind: HostInputKind;
  /** iptables-save / ip6tables-save (and, once read, listings). */
  readonly dump: Dump | null;
  readonly nft: NftRuleset | null;
  /** The text read (errors found after reading point into it). */
  readonly text: string;
}

/**
 * Reads one dump, whatever its kind. Text that is no dump is refused, saying what it looks like.
 */
export function parseDumpText(
  text: string,
  path: string,
  options: {
    readonly command: string;
    readonly onProgress?: (lines: number, rules: number) => void;
    /** An iptables dump's rules go there instead of its chains (it is read only to be printed). */
    readonly sink?: RuleSink;
  },
): DumpInput {
  const { command } = options;
  const kind = sniff(text);
  switch (kind) {
    case 'empty':
      return { file: path, kind: 'empty', dump: null, nft: null, text };
    case 'iptables-save': {
      const dump = parseSave(text, { file: path, onProgress: options.onProgress, sink: options.sink });
      return { file: path, kind: dump.family === 'ipv6' ? 'ip6tables-save' : 'iptables-save', dump, nft: null, text };
    }
    case 'nft-text':
      return { file: path, kind: 'nft-text', dump: null, nft: parseNftText(text, { file: path }), text };
    case 'nft-json':
      return { file: path, kind: 'nft-json', dump: null, nft: parseNftJson(text, { file: path }), text };
    case 'listing':
      return { file: path, kind: 'listing', dump: readListing(text, path), nft: null, text };
    case 'network':
      throw new InputError(
        path,
        1,
        1,
        `${command}: this is a network definition, not a firewall dump (give it with --net)`,
      );
    case 'unknown':
      throw new InputError(
        path,
        1,
        1,
        `${command}: not a firewall dump: expected iptables-save ('*filter' … COMMIT), nft list ruleset ('table …') or nft -j list ruleset ('{"nftables": …}') output`,
      );
  }
}

/** `iptables -S` and `iptables -L -n -v` output, read as the dump it shows (src/input/listing.ts). */
function readListing(text: string, path: string): Dump {
  return dumpFromListing(text, path);
}

export function kindName(kind: HostInputKind): string {
  return kind === 'ip6tables-save' ? 'ip6tables-save output' : KIND_NAMES[kind];
}

/** An input where only an iptables dump is meaningful: its dump, or an error naming what it is. */
export function iptablesDumpIn(command: string, input: DumpInput): Dump {
  if (input.dump) return input.dump;
  const name = input.file === '-' ? 'standard input' : input.file;
  // No tables: what iptables-save prints on a host where no iptables table exists.
  if (input.kind === 'empty') return { file: input.file, family: null, tables: [], comments: [] };
  throw new UsageError(`${command}: ${name} is ${kindName(input.kind)}; an iptables-save dump is expected here`);
}

/** Where an nft element was read, as FILE:LINE:COL (a JSON element's path found in the text). */
export function positionIn(input: DumpInput, pos: NftPos): { line: number; col: number; path: string | null } {
  if (isTextPos(pos)) return { line: pos.line, col: pos.col, path: null };
  const { line, col } = lineColOf(input.text, offsetOfJsonPath(input.text, parseJsonPath(pos.path)));
  return { line, col, path: pos.path };
}
