// libvirt's own firewall test vectors (../shared/corpus/libvirt/firewall, from
// tests/networkxml2firewalltest.c, v11.3.0): `compile X.xml --format args` prints exactly
// X-linux.iptables, `--flavor libvirt-nft` exactly X-linux.nftables, and `--setup` prefixes
// exactly base.iptables / base.nftables. The resulting firewall (`--format save`, `--format
// nft`) equals the replay of those commands into a real kernel (derived/).

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { describeCorpus, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

const DIR = join(SHARED_CORPUS, 'libvirt', 'firewall');

function cases(): string[] {
  try {
    return readdirSync(DIR)
      .filter((f) => f.endsWith('.xml'))
      .map((f) => f.slice(0, -4))
      .sort();
  } catch {
    return [];
  }
}

interface Outcome {
  readonly name: string;
  readonly got: string;
  readonly want: string;
}

/** Runs every case first, so the test name can carry the pass count. */
async function conformance(
  argsOf: (name: string) => string[],
  expected: (name: string) => string,
  transform: (out: string) => string = (s) => s,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const name of cases()) {
    const result = await runCli(argsOf(name));
    outcomes.push({
      name,
      got: result.code === 0 ? transform(result.stdout) : `exit ${result.code}: ${result.stderr}`,
      want: expected(name),
    });
  }
  return outcomes;
}

function check(outcomes: Outcome[]): void {
  expect(outcomes.length).toBeGreaterThan(0);
  for (const o of outcomes) expect(o.got, o.name).toBe(o.want);
}

const passed = (outcomes: Outcome[]): string => `${outcomes.filter((o) => o.got === o.want).length}/${outcomes.length}`;

describeCorpus('libvirt firewall test vectors (v11.3.0)', () => {
  const xml = (name: string) => join(DIR, `${name}.xml`);

  describe('iptables backend', async () => {
    const args = await conformance(
      (n) => ['compile', xml(n), '--format', 'args'],
      (n) => read(join(DIR, `${n}-linux.iptables`)),
    );
    it(`${passed(args)} cases: compile X.xml --format args == X-linux.iptables`, () => check(args));

    const withSetup = await conformance(
      (n) => ['compile', xml(n), '--format', 'args', '--setup'],
      (n) => read(join(DIR, 'base.iptables')) + read(join(DIR, `${n}-linux.iptables`)),
    );
    it(`${passed(withSetup)} cases: --setup prefixes exactly base.iptables`, () => check(withSetup));

    const save4 = await conformance(
      (n) => ['compile', xml(n), '--format', 'save'],
      (n) => read(join(DIR, 'derived', `${n}-linux.iptables-save`)),
    );
    it(`${passed(save4)} cases: --format save == derived/X-linux.iptables-save`, () => check(save4));

    const save6 = await conformance(
      (n) => ['compile', xml(n), '--format', 'save', '--family', 'ipv6'],
      (n) => read(join(DIR, 'derived', `${n}-linux.ip6tables-save`)),
    );
    it(`${passed(save6)} cases: --format save --family ipv6 == derived/X-linux.ip6tables-save`, () => check(save6));
  });

  describe('nftables backend', async () => {
    const args = await conformance(
      (n) => ['compile', xml(n), '--flavor', 'libvirt-nft', '--format', 'args'],
      (n) => read(join(DIR, `${n}-linux.nftables`)),
    );
    it(`${passed(args)} cases: --flavor libvirt-nft --format args == X-linux.nftables`, () => check(args));

    const withSetup = await conformance(
      (n) => ['compile', xml(n), '--flavor', 'libvirt-nft', '--format', 'args', '--setup'],
      (n) => read(join(DIR, 'base.nftables')) + read(join(DIR, `${n}-linux.nftables`)),
    );
    it(`${passed(withSetup)} cases: --setup prefixes exactly base.nftables`, () => check(withSetup));

    const ruleset = await conformance(
      (n) => ['compile', xml(n), '--flavor', 'libvirt-nft'],
      (n) => read(join(DIR, 'derived', `${n}-linux.nft-ruleset`)),
    );
    it(`${passed(ruleset)} cases: --format nft == derived/X-linux.nft-ruleset`, () => check(ruleset));
  });

  it('set-up runs only where chains or jumps are missing (libvirt checks --list-rules first)', async () => {
    const base = join(DIR, 'derived', 'base.iptables-save');
    const listOnly = read(join(DIR, 'base.iptables'))
      .split(/(?<=\n)(?=ip6?tables)/)
      .filter((c) => c.includes('--list-rules'))
      .slice(0, 3)
      .join('');
    const args = await runCli(['compile', xml('nat-default'), '--base', base, '--format', 'args', '--setup']);
    expect(args.code).toBe(0);
    // IPv4 chains all exist in the base: only the three listings; IPv6 (not given) is set up in full
    expect(args.stdout.startsWith(listOnly + 'ip6tables \\\n-w \\\n--table filter \\\n--list-rules\n')).toBe(true);
    expect(args.stdout.endsWith(read(join(DIR, 'nat-default-linux.iptables')))).toBe(true);
    const save = await runCli(['compile', xml('nat-default'), '--base', base]);
    expect(save.stdout).toBe(read(join(DIR, 'derived', 'nat-default-linux.iptables-save')));
  });

  it('a network that gets no rules (open) triggers no set-up and no commands', async () => {
    const open = await runCli([
      'compile',
      join(SHARED_CORPUS, 'libvirt', 'xml', 'open-network.xml'),
      '--format',
      'args',
      '--setup',
    ]);
    expect(open.code).toBe(0);
    expect(open.stdout).toBe('');
  });
});
