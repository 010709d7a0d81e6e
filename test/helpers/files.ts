// Reading fixtures: real files from corpus/ and ../shared/corpus/.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseSave } from '../../grammar/iptables-save.js';
import { sniff } from '../../src/input/sniff.js';
import type { Dump } from '../../src/model/dump.js';
import { decodeText } from '../../src/model/text.js';
import { REPO_CORPUS, SHARED_CORPUS } from './env.js';

export function read(path: string): string {
  return readFileSync(path, 'utf8');
}

export function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/**
 * Every iptables-save dump of both corpora (this repo's, then ../shared/corpus) under 5 MB, decoded as virtables
 * decodes it; files it refuses to decode are left out.
 */
export function iptablesDumpsOfCorpora(): Array<{ readonly file: string; readonly text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  for (const file of [...walk(REPO_CORPUS), ...walk(SHARED_CORPUS)]) {
    if (statSync(file).size >= 5_000_000) continue;
    let text: string;
    try {
      text = decodeText(file, readFileSync(file));
    } catch {
      continue;
    }
    if (sniff(text) === 'iptables-save') out.push({ file, text });
  }
  return out;
}

export function parseFile(path: string, base?: string): Dump {
  return parseSave(read(path), { file: base ? relative(base, path) : path });
}

/** Is this file an iptables-save dump (possibly an empty one: nothing to save)? */
export function looksLikeDump(path: string): boolean {
  if (
    /README|\.(md|xml|log|conf|db|net\.txt|nft\.txt|nft-ruleset|stderr|stdout)$|VERSION|REVISIONS|commands|list-rules|roundtrip|interface-maps|-linux\.(args|iptables|nftables)$/.test(
      path,
    )
  )
    return false;
  const text = read(path);
  if (text.trim() === '') return /\.(save|txt)$/.test(path);
  return /^\*[a-z]+\s*$/m.test(text) && /^COMMIT\s*$/m.test(text);
}
