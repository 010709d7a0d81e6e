// No regular expression that sees input may take more than linear time. Every regex literal and
// `new RegExp` in src/ and grammar/ is read from the source (TypeScript's parser) and checked by
// recheck, a ReDoS analyser that proves a pattern linear or finds an input that makes it
// exponential or polynomial (`/\s+$/` is quadratic on a long run of blanks before a letter).
// A lexer's token patterns are matched where the lexer stands (sticky), and checked so. What
// recheck cannot see — a loop retrying a pattern that scans to the end and fails, at every later
// start — the hostile-input tests and test/bench/hostile.bench.ts measure.

import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { check } from 'recheck';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/env.js';
import { walk } from '../helpers/files.js';

/** Files whose patterns read only virtables' own text, never input. */
const OWN_TEXT: Readonly<Record<string, string>> = {
  'src/cli/completion.ts': "virtables' own --help pages",
  'src/write/nft.ts': "the engine's base-chain specs (src/engine/libvirt-nft.ts)",
};

interface Found {
  readonly where: string;
  readonly source: string;
  readonly flags: string;
}

/** `new RegExp(…)` built from something other than a string literal, each with why it is safe. */
const DYNAMIC: Readonly<Record<string, string>> = {
  "grammar/iptables-save.ts: new RegExp(re.source, 'y')": 'a sticky copy of a literal pattern, itself checked here',
  'grammar/topology.ts: new RegExp(name)': 'a keyword: plain letters, matched sticky by the lexer',
  'grammar/expect.ts: new RegExp(word)': 'a keyword: plain letters, matched sticky by the lexer',
  'grammar/nft-lexer.ts: new RegExp(word)': 'a keyword: plain letters, matched sticky by the lexer',
  'grammar/nft-lexer.ts: new RegExp(`[^${STOP}]+`)': 'one negated character class, matched sticky by the lexer',
  'grammar/nft-lexer.ts: new RegExp(`[${chars}](?![^${STOP}])`)':
    'one character and a one-character lookahead, matched sticky',
};

/** `createToken({ …, pattern: /…/ })`: chevrotain matches it sticky, at the lexer's offset. */
function isTokenPattern(n: ts.Node): boolean {
  const prop = n.parent;
  if (!prop || !ts.isPropertyAssignment(prop) || prop.name.getText() !== 'pattern') return false;
  const call = prop.parent?.parent;
  return !!call && ts.isCallExpression(call) && call.expression.getText() === 'createToken';
}

function regexesIn(file: string): { found: Found[]; dynamic: string[] } {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const rel = relative(REPO, file);
  const found: Found[] = [];
  const dynamic: string[] = [];
  const at = (n: ts.Node) => `${rel}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
  const visit = (n: ts.Node): void => {
    if (ts.isRegularExpressionLiteral(n)) {
      const slash = n.text.lastIndexOf('/');
      const flags = n.text.slice(slash + 1);
      found.push({
        where: at(n),
        source: n.text.slice(1, slash),
        flags: isTokenPattern(n) && !flags.includes('y') ? `${flags}y` : flags,
      });
    } else if (
      (ts.isNewExpression(n) || ts.isCallExpression(n)) &&
      ts.isIdentifier(n.expression) &&
      n.expression.text === 'RegExp'
    ) {
      const [src, flags] = n.arguments ?? [];
      if (src && ts.isStringLiteralLike(src) && (!flags || ts.isStringLiteralLike(flags))) {
        found.push({ where: at(n), source: src.text, flags: flags && ts.isStringLiteralLike(flags) ? flags.text : '' });
      } else dynamic.push(`${rel}: ${n.getText(sf)}`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return { found, dynamic };
}

const files = ['src', 'grammar']
  .flatMap((d) => walk(join(REPO, d)))
  .filter((f) => f.endsWith('.ts') && !(relative(REPO, f) in OWN_TEXT));
const all = files.map(regexesIn);
const found = all.flatMap((r) => r.found);

describe('regular expressions over input', () => {
  it('are all found in the source (a few hundred), and every dynamic one is accounted for', () => {
    expect(found.length).toBeGreaterThan(200);
    expect(all.flatMap((r) => r.dynamic).sort()).toEqual(Object.keys(DYNAMIC).sort());
  });

  it('are all linear (recheck finds no exponential or polynomial input)', async () => {
    const unsafe: string[] = [];
    // One at a time: recheck's agent answers in order; a few milliseconds each.
    for (const r of found) {
      // The fuzzer's verdict must not depend on the run or the machine's load: a fixed seed (it flagged
      // sarif.ts once by chance), and its phases bounded by steps only, not by wall time (with the
      // default time limits a loaded machine made grammar/listing.ts's PROGRAM look polynomial).
      // A long overall timeout: a timeout is no verdict.
      const result = await check(r.source, r.flags, {
        timeout: 120_000,
        randomSeed: 20261202,
        attackTimeout: null,
        incubationTimeout: null,
        seedingTimeout: null,
      });
      if (result.status === 'safe') continue;
      const how =
        result.status === 'vulnerable'
          ? `${result.complexity.summary}, e.g. ${result.attack.pattern}`
          : `not proven linear (${JSON.stringify(result.error)})`;
      unsafe.push(`${r.where}: /${r.source}/${r.flags} — ${how}`);
    }
    expect(unsafe).toEqual([]);
  }, 300_000);
});
