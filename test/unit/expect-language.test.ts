// The expectations language: every sheet in corpus/expect/bad is refused with exit status 2
// and the positioned message its first line (`# error: LINE:COL: message`) gives; nothing on
// standard output. Plus the forms a sheet may take (Unicode arrows, blocks, prose).

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkExpectGrammar, parseLabFile, parseSheet } from '../../grammar/expect.js';
import { runCli } from '../helpers/cli.js';
import { REPO_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

const BAD = join(REPO_CORPUS, 'expect', 'bad');
const CLEAN = join(REPO_CORPUS, 'seed-lab', 'clean-host.save');
const LAB = join(REPO_CORPUS, 'labs', 'xen-networking');

describe('expectations: refused sheets', () => {
  for (const name of readdirSync(BAD)
    .filter((f) => f.endsWith('.expect'))
    .sort()) {
    it(name, async () => {
      const file = join(BAD, name);
      const want = /^# error: (.*)$/m.exec(read(file))![1]!;
      const r = await runCli(['check', file, '--dump', CLEAN]);
      expect(r.stderr).toBe(`${file}:${want}\n`);
      expect(r.stdout).toBe('');
      expect(r.code).toBe(2);
    });
  }
});

describe('expectations: what a sheet may say', () => {
  it("the grammar passes chevrotain's validations (they are skipped at run time for start-up)", () => {
    expect(() => checkExpectGrammar()).not.toThrow();
  });

  it('ASCII and Unicode arrows mean the same', () => {
    const ascii = parseSheet('vm1 -> outside tcp/80 : allowed\nvm1 <-> vm2 : blocked\n', 'a.expect').statements;
    const unicode = parseSheet('vm1 → outside tcp/80 : allowed\nvm1 ↔ vm2 : blocked\n', 'u.expect').statements;
    const strip = (x: typeof ascii) =>
      x.map((s) =>
        s.kind === 'reach'
          ? { hops: s.hops.map((h) => [h.node, h.port, h.service]), bothWays: s.bothWays, expect: s.expect }
          : s,
      );
    expect(strip(unicode)).toEqual(strip(ascii));
    expect(ascii.map((s) => s.kind === 'reach' && s.bothWays)).toEqual([false, true]);
  });

  it('a port forward has three hops with ports; services are tcp/N, udp/N, icmp, ping, dns', () => {
    const [fwd, dns, ping] = parseSheet(
      'outside -> host:8080 -> vm1:80 : allowed\nvm1 -> outside dns : blocked\nvm1 -> host ping : allowed\n',
      's.expect',
    ).statements;
    expect(fwd).toMatchObject({
      kind: 'reach',
      hops: [
        { node: 'outside', port: null },
        { node: 'host', port: 8080 },
        { node: 'vm1', port: 80 },
      ],
      expect: 'allowed',
    });
    expect(dns).toMatchObject({
      kind: 'reach',
      hops: [{ node: 'vm1' }, { node: 'outside', service: { proto: 'dns' } }],
      expect: 'blocked',
    });
    expect(ping).toMatchObject({ hops: [{}, { service: { proto: 'icmp' } }] });
  });

  it('an inline block keeps its rule lines and their line numbers; comments inside are dropped', () => {
    const [rules] = parseSheet(
      'after starting natted, the added rules include:\n  *nat\n  # the NAT\n  -A POSTROUTING -s 192.168.124.0/24 -j MASQUERADE\nend\n',
      'b.expect',
    ).statements;
    expect(rules).toMatchObject({
      kind: 'rules',
      mode: 'include',
      source: {
        kind: 'inline',
        lines: [
          { text: '  *nat', line: 2 },
          { text: '  -A POSTROUTING -s 192.168.124.0/24 -j MASQUERADE', line: 4 },
        ],
      },
    });
  });

  it('"""prose""" loses its common indentation', () => {
    const [about] = parseSheet('about """\n    two\n      lines\n  """\n', 'p.expect').statements;
    expect(about).toEqual({ kind: 'about', text: 'two\n  lines', at: { line: 1, col: 1 } });
  });

  it('the bundled lab file lists its tasks with their sheets', () => {
    const lab = parseLabFile(read(join(LAB, 'lab.txt')), 'lab.txt');
    expect(lab.entries.map((e) => `${e.kind} ${e.id}`)).toEqual([
      'task 0.2.1',
      'task 0.2.2',
      'query 4',
      'query 5',
      'query 6',
      'query 7',
      'query 8',
    ]);
    for (const e of lab.entries)
      for (const s of e.sheets) expect(() => parseSheet(read(join(LAB, s.file)), s.file)).not.toThrow();
  });
});
