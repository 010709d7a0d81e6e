// How deep the kernel follows user chains, and what it does with loops — checked in a network
// namespace, then asked of `virtables trace` on the table iptables-save printed back.
// The kernel has no depth limit (its jump stack holds one entry per user chain; 100,000 nested
// chains load and drop the packet here, too slow for every run) and refuses,
// with ELOOP, a table whose chains loop from a hook; an unreachable loop it loads.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { describeKernel } from '../helpers/env.js';

const HEAD = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];

/** INPUT → C1 → C2 → … → Cn by -j or -g; Cn drops ICMP, or returns (and INPUT's next rule drops it). */
function chainOf(n: number, how: '-j' | '-g', bottom: 'DROP' | 'RETURN'): string {
  const lines = [...HEAD];
  for (let i = 1; i <= n; i++) lines.push(`:C${i} - [0:0]`);
  lines.push('-A INPUT -p icmp -j C1');
  if (bottom === 'RETURN') lines.push('-A INPUT -p icmp -j DROP');
  for (let i = 1; i < n; i++) lines.push(`-A C${i} ${how} C${i + 1}`);
  lines.push(`-A C${n} -p icmp -j ${bottom}`);
  return `${lines.join('\n')}\nCOMMIT\n`;
}

/** Loads the table, pings the namespace's loopback once, and prints the table with counters. */
function pingThrough(table: string): { loaded: boolean; saved: string; stderr: string } {
  const script =
    'ip link set lo up && iptables-legacy-restore && { ping -c1 -W1 127.0.0.1 >/dev/null; iptables-legacy-save -c -t filter; }';
  const r = spawnSync('unshare', ['-n', 'sh', '-c', script], {
    input: table,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { loaded: r.status === 0, saved: r.stdout, stderr: r.stderr };
}

async function traceIcmp(dump: string): Promise<{ verdict: string; line: number | null; detail: string | null }> {
  const r = await runCli(
    ['trace', '-', '--from', 'outside', '--to', 'host', '--proto', 'icmp', '--format', 'json'],
    dump,
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const j = JSON.parse(r.stdout) as { verdict: string; path: Array<{ line: number | null; detail: string | null }> };
  const last = j.path.at(-1)!;
  return { verdict: j.verdict, line: last.line, detail: last.detail };
}

describeKernel('chain depth and loops, as the kernel follows them', () => {
  const cases = [
    { n: 10_000, how: '-j', bottom: 'DROP' },
    { n: 10_000, how: '-g', bottom: 'DROP' },
    { n: 10_000, how: '-j', bottom: 'RETURN' },
  ] as const;
  for (const { n, how, bottom } of cases) {
    it(`${n.toLocaleString('en')} chains by ${how}, ending in ${bottom}: the packet is dropped where the kernel drops it`, async () => {
      const kernel = pingThrough(chainOf(n, how, bottom));
      expect(kernel.loaded, kernel.stderr).toBe(true);
      // The rule whose counter the ping moved is the one that dropped it.
      const dropper = kernel.saved.split('\n').find((l) => /^\[1:84\] .* -j DROP$/.test(l));
      expect(dropper).toBe(bottom === 'DROP' ? `[1:84] -A C${n} -p icmp -j DROP` : '[1:84] -A INPUT -p icmp -j DROP');
      const lineNo = kernel.saved.split('\n').indexOf(dropper!) + 1;
      const traced = await traceIcmp(kernel.saved);
      expect(traced).toEqual({ verdict: 'dropped', line: lineNo, detail: null });
    });
  }

  it('a loop through gotos or jumps from a hook: the kernel refuses the table (ELOOP), and so does the reader', async () => {
    for (const [how, back] of [
      ['-g', '-g'],
      ['-j', '-j'],
      ['-j', '-g'],
    ] as const) {
      const table = [
        ...HEAD,
        ':A - [0:0]',
        ':B - [0:0]',
        '-A INPUT -p icmp -j A',
        `-A A ${how} B`,
        `-A B ${back} A`,
        'COMMIT',
        '',
      ].join('\n');
      expect(pingThrough(table).loaded).toBe(false);
      const errno = spawnSync(
        'unshare',
        [
          '-n',
          'sh',
          '-c',
          `iptables-legacy -N A && iptables-legacy -N B && iptables-legacy -A INPUT -j A && iptables-legacy -A A ${how} B && iptables-legacy -A B ${back} A`,
        ],
        { encoding: 'utf8' },
      );
      expect(errno.stderr).toMatch(/Too many levels of symbolic links/); // ELOOP
      // The reader refuses the table as iptables-restore does, at the rule that closes the loop.
      const r = await runCli(['trace', '-', '--from', 'outside', '--to', 'host', '--proto', 'icmp'], table);
      expect([r.code, r.stdout, r.stderr]).toEqual([
        2,
        '',
        '-:9:6: loop: A -> B -> A (the kernel refuses the table: "Too many levels of symbolic links")\n',
      ]);
    }
  });

  it('a loop no hook reaches: the kernel loads it, and trace is not misled by it', async () => {
    const table = [
      ...HEAD,
      ':A - [0:0]',
      ':B - [0:0]',
      '-A A -g B',
      '-A B -g A',
      '-A INPUT -p icmp -j DROP',
      'COMMIT',
      '',
    ].join('\n');
    const kernel = pingThrough(table);
    expect(kernel.loaded, kernel.stderr).toBe(true);
    expect(kernel.saved).toContain('[1:84] -A INPUT -p icmp -j DROP');
    expect((await traceIcmp(kernel.saved)).verdict).toBe('dropped');
  });
});

describe('chain walks end', () => {
  it('a table where a packet comes back to a chain by gotos alone is refused, as the kernel refuses it (the walk ran forever before)', async () => {
    const table = [
      ...HEAD,
      ':A - [0:0]',
      ':B - [0:0]',
      ':C - [0:0]',
      '-A INPUT -g A',
      '-A A -j B',
      '-A B -g C',
      '-A C -g B',
      'COMMIT',
      '',
    ].join('\n');
    const r = await runCli(['trace', '-', '--from', 'outside', '--to', 'host', '--proto', 'icmp'], table);
    expect([r.code, r.stderr]).toEqual([
      2,
      '-:11:6: loop: B -> C -> B (the kernel refuses the table: "Too many levels of symbolic links")\n',
    ]);
  });

  it('re-entering a chain after returning from it is no loop', async () => {
    const table = [
      ...HEAD,
      ':A - [0:0]',
      '-A INPUT -j A',
      '-A INPUT -j A',
      '-A INPUT -p icmp -j DROP',
      'COMMIT',
      '',
    ].join('\n');
    expect((await traceIcmp(table)).verdict).toBe('dropped');
  });
});
