// The real libvirt 9.0.0 captures (shared corpus), audited with every check: what a careful
// admin would be told about each host before a network starts, while it runs, after it stops.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeCorpus } from '../helpers/env.js';
import { audit, REAL } from './harness.js';

const CASES = ['a-default-nat', 'b-host-only', 'c-natted'] as const;
const ids = async (...args: Parameters<typeof audit>) =>
  (await audit(...args)).map((f) => `${f.id} ${f.severity} ${f.network ?? 'host'}`);

describeCorpus('audit of the real libvirt captures', () => {
  it('the default and natted hosts are clean but for the intended info (the host forwards for anyone)', async () => {
    for (const c of ['a-default-nat', 'c-natted']) {
      const dumps = [join(REAL, c, 'after.txt'), join(REAL, c, 'after.ip6.txt')];
      expect(await ids({ name: c, dumps, net: [join(REAL, c, 'network.xml')] })).toEqual([
        'forward-policy-accept-with-ip-forward info host',
      ]);
    }
  });

  it('the host-only host is clean: libvirt 9.0 gives its dnsmasq no-resolv (dnsmasq-host-only.conf), outside names are refused', async () => {
    const dumps = [join(REAL, 'b-host-only/after.txt'), join(REAL, 'b-host-only/after.ip6.txt')];
    expect(readFileSync(join(REAL, 'b-host-only/dnsmasq-host-only.conf'), 'utf8')).toMatch(
      /^dhcp-option=3\nno-resolv$/m,
    );
    expect(await ids({ name: 'b', dumps, net: [join(REAL, 'b-host-only/network.xml')] })).toEqual([]);
  });

  it('each destroyed.txt yields only leftover-chains, with or without the stopped network', async () => {
    for (const c of CASES) {
      const dumps = [join(REAL, c, 'destroyed.txt')];
      expect(await ids({ name: c, dumps })).toEqual(['leftover-chains info host']);
      expect(await ids({ name: c, dumps, inactive: [join(REAL, c, 'network.xml')] })).toEqual([
        'leftover-chains info host',
      ]);
    }
  });

  it("c-natted's dump with only a-default-nat's XML: virbr2's rules are stale, default's are missing", async () => {
    const found = await audit({
      name: 'c with a',
      dumps: [join(REAL, 'c-natted/after.txt')],
      net: [join(REAL, 'a-default-nat/network.xml')],
    });
    const stale = found.filter((f) => f.id === 'stale-rules');
    // One finding for the stopped network, listing its 19 rules (not 19 findings).
    expect(stale.length).toBe(1);
    expect(stale[0]!.message).toContain(': 19 rules (lines ');
    expect(new Set(stale.map((f) => f.network))).toEqual(new Set(['virbr2']));
    expect(stale.every((f) => f.message.includes('no given network owns'))).toBe(true);
    expect(found.filter((f) => f.id === 'missing-rule').map((f) => f.network)).toEqual(['default']);
  });

  it('before any network starts (empty dump) with the network said to run: its rules are not in the dump', async () => {
    expect(
      await ids({
        name: 'before',
        dumps: [join(REAL, 'a-default-nat/before.txt')],
        net: [join(REAL, 'a-default-nat/network.xml')],
      }),
    ).toEqual(['rules-not-in-dump warning default', 'forward-policy-accept-with-ip-forward info host']);
  });
});
