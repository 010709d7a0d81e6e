// The trace explorer on nft rules, against the kernel: conditions the listing alone does not decide
// (a dynamic set's members, a rate limit, a meter) are followed both ways. Where the ways agree the
// verdict is decided and must be the kernel's; where they differ the verdict "depends on" the nft
// rule, named, and what real packets do must be one of the ways followed (here: a fresh namespace,
// an empty set, a first packet within every rate).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseNftText } from '../../grammar/nft.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { compileHost } from '../../src/sim/compile.js';
import { buildTopology, emptySpec } from '../../src/sim/topology.js';
import { parseGuestFlag, parseUplinkFlag } from '../../src/cli/topology-flags.js';
import { prepare, traceWay } from '../../src/sim/trace.js';
import { corpusSkipReason, describeKernel, kernelSkipReason, SHARED_CORPUS } from '../helpers/env.js';
import { runKernel } from '../helpers/netns.js';
import { expectation, kernelProbes, type ProbeSpec } from '../helpers/scenarios.js';

const HOSTFW = `table inet hostfw {
	set seen {
		type ipv4_addr
		size 65535
		flags dynamic
	}

	chain forward {
		type filter hook forward priority filter; policy accept;
		tcp dport 22 ip saddr @seen drop
		tcp dport 80 meter web size 65535 { ip saddr limit rate 1/minute burst 1 packets } accept
		tcp dport 8080 limit rate over 1/minute burst 1 packets drop
	}
}
`;

describeKernel(
  'trace explorer on nft rules: the ways followed include what the kernel does',
  () => {
    if (kernelSkipReason() !== null || corpusSkipReason() !== null) return;
    const base = join(SHARED_CORPUS, 'nft-real', 'a-default-nat');
    const net = readNetworks(readFileSync(join(base, 'network.xml'), 'utf8'), 'network.xml')[0]!;
    const libvirt = readFileSync(join(base, 'after.nft.txt'), 'utf8');
    const topology = buildTopology({
      ...emptySpec(),
      networks: [net],
      uplink: parseUplinkFlag('eth0=10.0.2.15/24,gw=10.0.2.2'),
      autoGuests: false,
      guests: [parseGuestFlag('vm@virbr0=192.168.122.10')],
    });
    const loads = [
      { tool: 'nft' as const, text: libvirt },
      { tool: 'nft' as const, text: HOSTFW },
    ];
    const listed = runKernel(topology, '', [], { brNetfilter: false, loads, listings: { nft: 'nft list ruleset' } });
    const nft = parseNftText(listed.listings.nft ?? '', { file: 'nft list ruleset' });
    const sim = prepare(compileHost({ iptables: null, nft }, 4), { ...topology, brNetfilter: 'off' });
    const probes: ProbeSpec[] = [22, 80, 8080].map((dport) => ({ from: 'vm', to: 'outside', proto: 'tcp', dport }));
    const list = kernelProbes(sim, { name: 'explorer', dump: '', topology, brNetfilter: false, probes });
    const run = runKernel(
      topology,
      '',
      list.map((p) => p.probe),
      { brNetfilter: false, extraPorts: { tcp: [22, 80, 8080], udp: [] }, loads },
    );
    const got = (i: number) => ({
      client: run.observations.get(i)?.client,
      arrival: run.observations.get(i)?.arrival ?? null,
    });

    it('the dynamic set: depends on the nft rule, named by table, chain and line; the kernel (empty set) takes one of the ways', () => {
      expect(listed.error ?? run.error).toBeNull();
      const p = list[0]!;
      expect(p.result.request.verdict).toBe('unknown');
      expect(p.result.branches!.rules.map((r) => `${r.table} ${r.chain} ${r.rule.nft?.rule.chain}`)).toEqual([
        'inet hostfw forward forward',
      ]);
      expect(p.result.request.reason).toMatch(/^the first packet depends on rule \d+ \(inet hostfw forward: @seen/);
      const ways = p.result.branches!.paths.map((w) =>
        expectation(
          sim,
          traceWay(
            sim,
            { from: 'vm', to: p.probe.dst, proto: 'tcp', dport: 22, sport: p.probe.sport },
            w.choices.map((c) => c.matched),
          ),
        ),
      );
      expect(ways).toContainEqual(got(0));
    });
    it('the meter (accept, or on to a chain that accepts): both ways agree, decided, and the kernel agrees', () => {
      const p = list[1]!;
      expect(p.result.request.verdict).toBe('delivered');
      expect(p.result.request.notes.join(' / ')).toMatch(
        /the same whichever way rule \d+ goes \(\d+ ways followed: meter web/,
      );
      expect(expectation(sim, p.result)).toEqual(got(1));
    });
    it('limit rate over: depends on the rule; the kernel (a first packet, within the rate) takes the way it does not match', () => {
      const p = list[2]!;
      expect(p.result.request.verdict).toBe('unknown');
      const ways = p.result.branches!.paths;
      const notMatched = ways.find((w) => w.choices.every((c) => !c.matched))!;
      expect(
        expectation(
          sim,
          traceWay(
            sim,
            { from: 'vm', to: p.probe.dst, proto: 'tcp', dport: 8080, sport: p.probe.sport },
            notMatched.choices.map((c) => c.matched),
          ),
        ),
      ).toEqual(got(2));
    });
  },
  { corpus: true },
);
