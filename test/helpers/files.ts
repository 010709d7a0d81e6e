// Reading fixtures: real files from corpus/ and ../shared/corpus/.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseSave } from '../../grammar/iptables-save.js';
import type { Dump } from '../../src/model/dump.js';

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
