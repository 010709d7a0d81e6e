// Input that made a reader super-linear, read back whole and right: trailing and inner blanks
// and shell continuations in listings, unclosed quotes in dumps and listings, and the tables
// `net` and `explain` print for many or wide lines. How the time grows is measured in
// test/bench/hostile.bench.ts; here each case is checked for its answer.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { parseListing } from '../../grammar/listing.js';
import { textWidth } from '../../src/write/table.js';
import { InputError } from '../../src/model/errors.js';
import { runCli } from '../helpers/cli.js';
import { REPO_CORPUS } from '../helpers/env.js';

const COMMANDS = readFileSync(join(REPO_CORPUS, 'listings', 'commands.txt'), 'utf8');
const LISTING_L = readFileSync(join(REPO_CORPUS, 'listings', 'host-only+natted.L.txt'), 'utf8');
const DUMP = readFileSync(join(REPO_CORPUS, 'seed-lab', 'clean-host.save'), 'utf8');

/** A listing's operations without the lines as written (which keep the blanks), and without columns if asked. */
const operations = (text: string, cols = true) =>
  JSON.stringify(parseListing(text, 'l.txt').operations, (k, v) =>
    k === 'text' || (!cols && k === 'col') ? undefined : typeof v === 'bigint' ? String(v) : v,
  );

function errorOf(run: () => unknown): InputError {
  try {
    run();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an input error');
}

describe('listings with hostile blanks', () => {
  it('reads each line the same with 20,000 blanks and tabs after it (trailing blanks were stripped in quadratic time)', () => {
    for (const text of [COMMANDS, LISTING_L]) {
      const padded = text
        .split('\n')
        .map((l) => (l === '' ? l : `${l}${' \t'.repeat(10_000)}`))
        .join('\n');
      expect(operations(padded)).toBe(operations(text));
    }
  });

  it('reads a rule with 100,000 blanks between its words', () => {
    const wide = COMMANDS.replace(
      '-j DNAT --to 192.168.100.11:8080',
      `-j DNAT${' '.repeat(100_000)}--to 192.168.100.11:8080`,
    );
    expect(operations(wide, false)).toBe(operations(COMMANDS, false));
    // The columns after the gap are right: an unknown option there is placed 99,999 columns further on.
    const colOf = (text: string): number => {
      const refused = parseListing(
        text.replace('--to 192.168.100.11:8080', '--to 192.168.100.11:8080 --bogus'),
        'l.txt',
      ).refused;
      const m = /^l\.txt:\d+:(\d+): unknown option '--bogus'/.exec(refused[0] ?? '');
      if (!m) throw new Error(`--bogus was not refused: ${refused.join('; ')}`);
      return Number(m[1]);
    };
    expect(colOf(wide) - colOf(COMMANDS)).toBe(99_999);
  });

  it('joins 20,000 continuation lines into one command at its first line', () => {
    const text = `iptables -A INPUT -s 10.0.0.1 \\\n${'> -m comment --comment x \\\n'.repeat(20_000)}> -j ACCEPT\n`;
    const ops = parseListing(text, 'l.txt').operations;
    expect(ops).toHaveLength(1);
    expect(ops[0]).toMatchObject({ kind: 'append', chain: 'INPUT' });
  });

  it('says where a quote opens that never closes, after 30,000 escaped quotes', () => {
    for (const parse of [
      (t: string) => parseListing(t, 'l.txt'),
      (t: string) => parseSave(`*filter\n${t}COMMIT\n`, { file: 'l.txt' }),
    ]) {
      const e = errorOf(() => parse(`-A INPUT -m comment --comment "${'\\"'.repeat(30_000)} -j ACCEPT\n`));
      expect(e.message).toMatch(/^l\.txt:\d:31: unterminated quoted string$/);
    }
  });

  it('reads a dump whose quoted comments hold 30,000 escaped quotes', () => {
    const comment = `"${'\\"'.repeat(30_000)}"`;
    const dump = parseSave(
      DUMP.replace('-A INPUT -i lo -j ACCEPT', `-A INPUT -i lo -m comment --comment ${comment} -j ACCEPT`),
      { file: 'd.save' },
    );
    expect(dump.tables.flatMap((t) => t.chains.flatMap((c) => c.rules)).some((r) => r.text.includes(comment))).toBe(
      true,
    );
  });
});

describe('tables for many and wide lines', () => {
  it('net prints each of 80 DHCP ranges on its own line of the table', async () => {
    const ranges = Array.from({ length: 80 }, (_, i) => `      <range start='10.0.${i}.2' end='10.0.${i}.254'/>`).join(
      '\n',
    );
    const xml = `<network>\n  <name>many</name>\n  <forward mode='nat'/>\n  <bridge name='virbr9'/>\n  <ip address='10.0.0.1' netmask='255.255.0.0'>\n    <dhcp>\n${ranges}\n    </dhcp>\n  </ip>\n</network>\n`;
    const r = await runCli(['net', '-'], xml);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    for (let i = 0; i < 80; i++)
      expect(lines.filter((l) => l.includes(` 10.0.${i}.2 - 10.0.${i}.254 `))).toHaveLength(1);
    expect(new Set(lines.map(textWidth))).toEqual(new Set([81]));
  });

  it('explain wraps a rule with a long CJK comment by display width, losing no character', async () => {
    const comment = '中文 '.repeat(1000).trim();
    const dump = DUMP.replace('-A INPUT -i lo -j ACCEPT', `-A INPUT -i lo -m comment --comment "${comment}" -j ACCEPT`);
    const r = await runCli(['explain', '--format', 'table', '-'], dump);
    expect(r.code).toBe(0);
    const table = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('│') || l.startsWith('├') || l.startsWith('┌') || l.startsWith('└'));
    expect(new Set(table.map(textWidth)).size).toBe(1);
    const ruleColumn = table
      .filter((l) => l.startsWith('│'))
      .map((l) => l.split('│')[3]!.trim())
      .join(' ');
    // explain shows the canonical rule: the kernel keeps 255 bytes of a comment (36 '中文 ' and a '中').
    const kept = Buffer.from(comment).subarray(0, 255).toString();
    expect(ruleColumn.split('中文').length - 1).toBe(kept.split('中文').length - 1);
  });
});
