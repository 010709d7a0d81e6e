// Real libvirt 9.0.0 runs (../shared/corpus/libvirt-real: libvirtd started in a private
// namespace, iptables-save before and after `virsh net-start`): compiling the same network
// onto before.txt gives after.txt, rule for rule and in order, for both families.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { describeCorpus, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

const DIR = join(SHARED_CORPUS, 'libvirt-real');
const cases = (): string[] =>
  existsSync(DIR)
    ? readdirSync(DIR)
        .filter((d) => statSync(join(DIR, d)).isDirectory())
        .sort()
    : [];

/** iptables-save output without its `# Generated/Completed` lines. */
const withoutComments = (text: string): string => text.replace(/^#.*\n/gm, '');

describeCorpus('real libvirt 9.0.0 captures', async () => {
  const outcomes: Array<{ name: string; got: string; want: string }> = [];
  for (const name of cases()) {
    const dir = join(DIR, name);
    for (const [before, after, family] of [
      ['before.txt', 'after.txt', 'ipv4'],
      ['before.ip6.txt', 'after.ip6.txt', 'ipv6'],
    ] as const) {
      const r = await runCli([
        'compile',
        join(dir, 'network.xml'),
        '--base',
        join(dir, before),
        '--family',
        family,
        '--format',
        'save',
      ]);
      outcomes.push({
        name: `${name} ${family}`,
        got: r.code === 0 ? r.stdout : r.stderr,
        want: withoutComments(read(join(dir, after))),
      });
    }
  }
  it(`${outcomes.filter((o) => o.got === o.want).length}/${outcomes.length} captures: compile network.xml --base before --format save == after`, () => {
    expect(outcomes.length).toBeGreaterThan(0);
    for (const o of outcomes) expect(o.got, o.name).toBe(o.want);
  });

  it('the commands libvirt logged are the commands compiled, in order', async () => {
    for (const name of cases()) {
      const dir = join(DIR, name);
      const logged = read(join(dir, 'firewall-commands.log'))
        .split('\n')
        .map((l) => /Applying rule '\/usr\/sbin\/(.*)'$/.exec(l)?.[1])
        .filter((l): l is string => l !== undefined && !l.includes('--delete'));
      const r = await runCli(['compile', join(dir, 'network.xml'), '--format', 'json', '--setup']);
      const compiled = (JSON.parse(r.stdout) as { commands: Array<{ argv: string[] }> }).commands.map((c) =>
        c.argv.map((a) => (a === '!' ? "'!'" : a)).join(' '),
      );
      expect(compiled, name).toEqual(logged);
    }
  });
});

// The IPv6 nat and route networks this project captured with the same harness (corpus/libvirt-ipv6, nf_tables
// backend; the legacy case's dumps carry counters and the kernel's table order): the engine derives what libvirt
// installed for each family, the nat network's routed IPv6 included.
describe('real libvirt 9.0.0 captures with IPv6 networks', () => {
  const V6 = join(REPO_CORPUS, 'libvirt-ipv6');
  it.each([
    ['d-nat6', ['network.xml']],
    ['e-three-dual-stack', ['network1.xml', 'network2.xml', 'network3.xml']],
  ] as const)('%s: compile (in start order) --base before == after, IPv4 and IPv6', async (name, nets) => {
    const dir = join(V6, name);
    for (const [before, after, family] of [
      ['before.txt', 'after.txt', 'ipv4'],
      ['before.ip6.txt', 'after.ip6.txt', 'ipv6'],
    ] as const) {
      const r = await runCli([
        'compile',
        ...nets.map((n) => join(dir, n)),
        '--base',
        join(dir, before),
        '--family',
        family,
        '--format',
        'save',
      ]);
      expect(r.stdout, `${name} ${family}`).toBe(withoutComments(read(join(dir, after))));
    }
    expect(read(join(dir, 'after.ip6.txt'))).toContain('-A LIBVIRT_FWI -d 2001:db8:126::/64 -o virbr6 -j ACCEPT');
  });
});
