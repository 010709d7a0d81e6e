// Order is the point: every libvirt rule is inserted at the top, so a later network sits above
// an earlier one, and the host's own rules stay where they were (below libvirt's jumps).

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { REPO_CORPUS } from '../helpers/env.js';

const LAB = join(REPO_CORPUS, 'seed-lab');
const net = (name: string) => join(LAB, `${name}.xml`);
const rulesOf = (save: string, chain: string) => save.split('\n').filter((l) => l.startsWith(`-A ${chain} `));

describe('start order', () => {
  it('puts the later network above the earlier one in every private chain', async () => {
    const r = await runCli(['compile', net('natted'), net('host-only')]);
    expect(r.code).toBe(0);
    const fwo = rulesOf(r.stdout, 'LIBVIRT_FWO');
    expect(fwo).toEqual([
      '-A LIBVIRT_FWO -i virbr1 -j REJECT --reject-with icmp-port-unreachable',
      '-A LIBVIRT_FWO -s 192.168.124.0/24 -i virbr2 -j ACCEPT',
      '-A LIBVIRT_FWO -i virbr2 -j REJECT --reject-with icmp-port-unreachable',
    ]);
    // the set-up runs once, before the first network
    expect(rulesOf(r.stdout, 'FORWARD')).toEqual([
      '-A FORWARD -j LIBVIRT_FWX',
      '-A FORWARD -j LIBVIRT_FWI',
      '-A FORWARD -j LIBVIRT_FWO',
    ]);
  });

  it('reverses with the start order (legacy: the same rules interleave differently in FORWARD)', async () => {
    const a = await runCli(['compile', net('natted'), net('host-only'), '--flavor', 'libvirt-legacy']);
    const b = await runCli(['compile', net('host-only'), net('natted'), '--flavor', 'libvirt-legacy']);
    const fa = rulesOf(a.stdout, 'FORWARD');
    const fb = rulesOf(b.stdout, 'FORWARD');
    expect([...fa].sort()).toEqual([...fb].sort());
    expect(fa[0]).toContain('virbr1');
    expect(fb[0]).toContain('virbr2');
  });

  it("keeps the host's own rules below libvirt's jumps (--base)", async () => {
    const r = await runCli(['compile', net('natted'), '--base', join(LAB, 'clean-host.save')]);
    const input = rulesOf(r.stdout, 'INPUT');
    expect(input[0]).toBe('-A INPUT -j LIBVIRT_INP');
    expect(input.at(-1)).toBe('-A INPUT -j REJECT --reject-with icmp-host-prohibited');
    const forward = rulesOf(r.stdout, 'FORWARD');
    expect(forward).toEqual([
      '-A FORWARD -j LIBVIRT_FWX',
      '-A FORWARD -j LIBVIRT_FWI',
      '-A FORWARD -j LIBVIRT_FWO',
      '-A FORWARD -j REJECT --reject-with icmp-host-prohibited',
    ]);
  });

  it('compiles a network defined twice in one run as two starts (rules duplicated, like a second net-start of a copy)', async () => {
    const r = await runCli(['compile', net('host-only'), net('host-only'), '--flavor', 'libvirt-legacy']);
    expect(rulesOf(r.stdout, 'FORWARD').filter((l) => l === '-A FORWARD -i virbr1 -o virbr1 -j ACCEPT')).toHaveLength(
      2,
    );
  });
});

describe('json', () => {
  it('gives every command its network, purpose and why, and each rule its canonical text', async () => {
    const r = await runCli(['compile', net('natted'), '--format', 'json', '--setup']);
    const program = JSON.parse(r.stdout) as {
      flavor: string;
      era: string;
      commands: Array<{
        network: string;
        purpose: string;
        why: string;
        setup: boolean;
        effect: { kind: string; rule?: string };
      }>;
    };
    expect(program.flavor).toBe('libvirt');
    expect(program.era).toBe('libvirt 11.3.0');
    for (const c of program.commands) {
      expect(c.network).toBe('natted');
      expect(c.why.length).toBeGreaterThan(10);
    }
    const masquerade = program.commands.find((c) => c.purpose === 'masquerade');
    expect(masquerade?.effect.rule).toBe('-A LIBVIRT_PRT -s 192.168.124.0/24 ! -d 192.168.124.0/24 -j MASQUERADE');
    expect(program.commands.filter((c) => c.setup).map((c) => c.purpose)).toContain('chain-setup');
  });
});
