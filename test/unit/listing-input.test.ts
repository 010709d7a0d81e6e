// Rule listings as input to parse, explain, audit and diff: `iptables -S` and `iptables -L -n -v`
// output read by the one input reader as the dump it shows (real iptables 1.8.9 output of the
// seed lab's rules, corpus/listings), with the tables it lists said; what a listing cannot tell
// (`iptables -L -n` shows no interfaces) and commands are refused in one sentence.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { REPO_CORPUS } from '../helpers/env.js';

const L = join(REPO_CORPUS, 'listings');
const SEED = join(REPO_CORPUS, 'seed-lab');
const save = join(SEED, 'expected-0.6.3', 'host-only+natted.save');

describe('listings as input', () => {
  it('parse: an iptables -S and an iptables -L -n -v listing print as the iptables-save they show, with a note', async () => {
    const rules = (text: string): string[] =>
      text
        .split('\n')
        .filter((l) => l.startsWith('-A') || l.startsWith('*'))
        .sort();
    const canonical = rules((await runCli(['parse', save])).stdout);
    for (const f of ['host-only+natted.S.txt', 'host-only+natted.Lv.txt']) {
      const r = await runCli(['parse', join(L, f)]);
      expect(r.code, f).toBe(0);
      expect(rules(r.stdout), f).toEqual(canonical);
      expect(r.stderr, f).toMatch(
        /^virtables parse: note: .* is an iptables -[SL] listing, read as the dump it shows: the filter and nat tables/,
      );
    }
  });

  it('diff: a listing and the iptables-save of the same host hold the same rules', async () => {
    const r = await runCli(['diff', save, join(L, 'host-only+natted.S.txt')]);
    expect(r.stdout).toContain('no change: the two hosts hold the same rules in the same order');
  });

  it('explain and audit read it; audit judges only the tables it lists', async () => {
    const e = await runCli(['explain', join(L, 'host-only+natted.Lv.txt')]);
    expect(e.stdout).toContain('== virbr2 (192.168.124.0/24): nat');
    expect(e.stdout).toContain('is an iptables -L listing, read as the dump it shows: the filter and nat tables');
    const a = await runCli([
      'audit',
      join(L, 'host-only+natted.S.txt'),
      '--net',
      join(SEED, 'host-only.xml'),
      '--net',
      join(SEED, 'natted.xml'),
      '--format',
      'json',
    ]);
    const ids = (JSON.parse(a.stdout) as { findings: Array<{ id: string }> }).findings.map((f) => f.id);
    // The same as for the iptables-save of that host: nothing is missing because mangle is not listed.
    const fromSave = (
      JSON.parse(
        (
          await runCli([
            'audit',
            save,
            '--net',
            join(SEED, 'host-only.xml'),
            '--net',
            join(SEED, 'natted.xml'),
            '--format',
            'json',
          ])
        ).stdout,
      ) as { findings: Array<{ id: string }> }
    ).findings.map((f) => f.id);
    expect(ids).toEqual(fromSave);
    expect(ids).not.toContain('missing-rule');
  });

  it('iptables -L -n without -v cannot be judged: one sentence says what to give; so do commands', async () => {
    const l = await runCli(['audit', join(L, 'host-only+natted.L.txt')]);
    expect(l).toMatchObject({ code: 2, stdout: '' });
    expect(l.stderr).toContain(
      `${join(L, 'host-only+natted.L.txt')}:4:1: this 'iptables -L -n' listing shows no interfaces (-i/-o), so its rules cannot be judged: list with 'iptables -L -n -v', or 'iptables -S', or give iptables-save output`,
    );
    const c = await runCli(['explain', join(L, 'commands.txt')]);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain(
      "these are iptables commands (or a diff), not what the firewall holds: give iptables-save output (or 'iptables -S' / 'iptables -L -n -v')",
    );
  });
});
