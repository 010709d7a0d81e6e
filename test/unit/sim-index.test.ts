// The per-chain decision trees must never change an answer: every probe traced through the
// indexed ruleset and through a plain rule-by-rule scan gives the same verdict, the same
// addresses and the same rules in the path — on a big generated libvirt host and on randomly
// mutated dumps (negations, wildcards, user chains, marks, NAT).

import { describe, expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { compileDump, type Ruleset } from '../../src/sim/compile.js';
import { explainRule, inferNetworks } from '../../src/explain/attribute.js';
import { buildTopology, emptySpec, type Topology } from '../../src/sim/topology.js';
import { parseBridgeFlag, parseGuestFlag, parseUplinkFlag } from '../../src/cli/topology-flags.js';
import { prepare, trace, type Probe, type TraceResult } from '../../src/sim/trace.js';
import { bigDump, subnet } from '../helpers/big-dump.js';
import { editable, emptyDump, mutate, prng, render, startModern } from '../helpers/scenarios.js';
import { readNetworks } from '../../src/network/libvirt.js';

function summary(r: TraceResult): string {
  const leg = (l: TraceResult['request'] | null): string =>
    l
      ? `${l.verdict} ${l.reason} ${l.seen ? `${l.seen.src}:${l.seen.sport}>${l.seen.dst}:${l.seen.dport}` : '-'} [${l.events.map((e) => (e.kind === 'rule' ? `${e.chain}:${e.rule?.rule?.line ?? '-'}:${e.action}` : e.text)).join(' | ')}]`
      : 'none';
  return `${leg(r.request)} / ${leg(r.reply)}`;
}

function compareOn(text: string, topology: Topology, probes: readonly Probe[]): { same: number; differ: string[] } {
  const dump = parseSave(text, { file: 'gen.save' });
  const indexed = prepare(compileDump(dump), topology);
  const scanned = prepare(compileDump(dump, undefined, { index: false }), topology);
  let same = 0;
  const differ: string[] = [];
  for (const p of probes) {
    const a = summary(trace(indexed, p));
    const b = summary(trace(scanned, p));
    if (a === b) same++;
    else differ.push(`${JSON.stringify(p)}\n  indexed: ${a}\n  scanned: ${b}`);
  }
  return { same, differ };
}

function randomProbes(
  nodes: readonly string[],
  count: number,
  seed: number,
  extraTargets: readonly string[] = [],
): Probe[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: Probe[] = [];
  while (out.length < count) {
    const from = pick(nodes);
    const to = pick([...nodes, ...extraTargets]);
    if (from === to) continue;
    const proto = pick(['tcp', 'udp', 'icmp'] as const);
    out.push(
      proto === 'icmp'
        ? { from, to, proto }
        : { from, to, proto, dport: pick([22, 53, 67, 80, 443, 8080, 10003, 10017]), sport: pick([40000, 68, 1023]) },
    );
  }
  return out;
}

/** n bridges virbrI with subnet(I), one guest vmI at .10 on each, and an uplink. */
function guestsTopology(n: number): Topology {
  return buildTopology({
    ...emptySpec(),
    uplink: parseUplinkFlag('eth0=10.0.2.15/24,gw=10.0.2.2'),
    autoGuests: false,
    bridges: Array.from({ length: n }, (_, i) => parseBridgeFlag(`virbr${i}=${subnet(i)}.1/24`)),
    guests: Array.from({ length: n }, (_, i) => parseGuestFlag(`vm${i}@virbr${i}=${subnet(i)}.10`)),
  });
}

describe('indexed chains answer exactly as a rule-by-rule scan', () => {
  it('a generated libvirt host: 40 NAT networks, 10 port forwards each', () => {
    const n = 40;
    const topology = guestsTopology(n);
    const nodes = ['host', 'outside', ...Array.from({ length: n }, (_, i) => `vm${i}`)];
    const { same, differ } = compareOn(bigDump(n, 10), topology, randomProbes(nodes, 1500, 11, ['10.0.2.15']));
    expect(differ).toEqual([]);
    expect(same).toBe(1500);
  });

  it('randomly mutated libvirt dumps', () => {
    const def = readNetworks(
      '<network><name>default</name><forward/><bridge name="virbr0"/><ip address="192.168.122.1" prefix="24"/></network>',
      'default.xml',
    )[0]!;
    const iso = readNetworks(
      '<network><name>iso</name><bridge name="virbr1"/><ip address="192.168.123.1" prefix="24"/></network>',
      'iso.xml',
    )[0]!;
    const base = emptyDump();
    startModern(base, def);
    startModern(base, iso);
    const topology = buildTopology({
      ...emptySpec(),
      networks: [def, iso],
      uplink: parseUplinkFlag('eth0=10.3.3.50/24,gw=10.3.3.1'),
      brNetfilter: 'on',
      guests: [
        'vm1@virbr0=192.168.122.10',
        'vm2@virbr0=192.168.122.11',
        'vm3@virbr1=192.168.123.10,gw=192.168.123.1',
      ].map(parseGuestFlag),
    });
    const m = {
      bridges: ['virbr0', 'virbr1'],
      subnets: ['192.168.122.0/24', '192.168.123.0/24'],
      guests: ['192.168.122.10', '192.168.122.11', '192.168.123.10'],
      uplink: 'eth0',
      uplinkAddress: '10.3.3.50',
    };
    let total = 0;
    for (let seed = 100; seed < 130; seed++) {
      const text = render(mutate(editable(render(base)), m, seed, 12));
      const { same, differ } = compareOn(
        text,
        topology,
        randomProbes(['host', 'outside', 'vm1', 'vm2', 'vm3'], 60, seed, ['10.3.3.50']),
      );
      expect(differ).toEqual([]);
      total += same;
    }
    expect(total).toBe(30 * 60);
  });

  it('a chain indexed by destination keeps its wildcard rules, and their place, in every bucket', () => {
    // 24 guests, each with its own accepts (the destination is the best dimension), a /24 drop that contains one
    // guest's /32s, and rules naming no destination between them: each must be met where the chain puts it.
    const n = 24;
    const lines: string[] = [];
    lines.push(`-A FORWARD -d ${subnet(3)}.0/24 -p tcp -m tcp --dport 80 -j DROP`);
    for (let i = 0; i < n; i++) {
      lines.push(`-A FORWARD -d ${subnet(i)}.10/32 -p tcp -m tcp --dport 80 -j ACCEPT`);
      if (i % 2 === 0) lines.push(`-A FORWARD -d ${subnet(i)}.10/32 -p tcp -m tcp --dport 22 -j ACCEPT`);
      if (i === 9) lines.push('-A FORWARD -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset');
      if (i === 15) lines.push('-A FORWARD -p tcp -m tcp --dport 80 -j DROP');
    }
    const text = `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${lines.join('\n')}\nCOMMIT\n`;
    const topology = guestsTopology(n);
    const probes: Probe[] = Array.from({ length: n }, (_, i) =>
      [22, 80, 443].map((dport): Probe => ({ from: 'outside', to: `vm${i}`, proto: 'tcp', dport })),
    ).flat();
    const { same, differ } = compareOn(text, topology, probes);
    expect(differ).toEqual([]);
    expect(same).toBe(probes.length);
    // The wildcard rules decide: guests after the REJECT lose port 22, after the DROP port 80, the /24 drops vm3's 80.
    const sim = prepare(compileDump(parseSave(text, { file: 'gen.save' })), topology);
    const verdict = (i: number, dport: number): string =>
      trace(sim, { from: 'outside', to: `vm${i}`, proto: 'tcp', dport }).request.verdict;
    expect([verdict(8, 22), verdict(10, 22), verdict(12, 22)]).toEqual(['delivered', 'rejected', 'rejected']);
    expect([verdict(3, 80), verdict(15, 80), verdict(16, 80), verdict(20, 443)]).toEqual([
      'dropped',
      'delivered',
      'dropped',
      'delivered',
    ]);
  });
});

describe("the sentence trace prints for a deciding rule (explainRule: the engine's purpose where known, else a generic one)", () => {
  const rules = (text: string): Ruleset => compileDump(parseSave(text, { file: 'd.save' }));
  const cases: Array<[string, string]> = [
    [
      '-A LIBVIRT_INP -i virbr0 -p udp -m udp --dport 53 -j ACCEPT',
      "guests on virbr0 may send DNS queries to the host's dnsmasq (port 53)",
    ],
    [
      '-A LIBVIRT_FWI -d 192.168.122.0/24 -o virbr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      'replies may come back in to guests of 192.168.122.0/24 on virbr0',
    ],
    [
      '-A LIBVIRT_FWO -i virbr0 -j REJECT --reject-with icmp-port-unreachable',
      'everything else leaving virbr0 is rejected',
    ],
    [
      '-A LIBVIRT_PRT -s 192.168.122.0/24 ! -d 192.168.122.0/24 -p tcp -j MASQUERADE --to-ports 1024-65535',
      "tcp from guests of 192.168.122.0/24 gets the host's address and a source port in 1024-65535, never a privileged one",
    ],
    ['-A FORWARD -j LIBVIRT_FWX', "every packet in filter FORWARD passes through libvirt's LIBVIRT_FWX chain first"],
    [
      '-A FORWARD -s 10.0.0.5/32 -m physdev --physdev-in vif1.0 --physdev-is-bridged -j ACCEPT',
      'traffic from guest interface vif1.0 with source 10.0.0.5 may be forwarded',
    ],
    [
      '-A PREROUTING -i xenbr0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.100.11:80',
      'new incoming tcp connections arriving on xenbr0, to port 8080 are sent on to 192.168.100.11:80',
    ],
    ['-A INPUT -p icmp -m icmp --icmp-type any -j ACCEPT', 'icmp packets for the host of any ICMP type are accepted'],
    [
      '-A INPUT -j REJECT --reject-with icmp-host-prohibited',
      'all packets for the host are rejected (icmp-host-prohibited)',
    ],
  ];
  for (const [line, sentence] of cases) {
    it(line, () => {
      const table = /^-A (PREROUTING|LIBVIRT_PRT)/.test(line) ? 'nat' : 'filter';
      const chain = line.split(' ')[1]!;
      const builtin = ['INPUT', 'FORWARD', 'OUTPUT', 'PREROUTING', 'POSTROUTING'].includes(chain);
      const target = /-j (LIBVIRT_\w+)/.exec(line)?.[1];
      const decl = [
        builtin ? `:${chain} ACCEPT [0:0]` : `:${chain} - [0:0]`,
        ...(target ? [`:${target} - [0:0]`] : []),
      ].join('\n');
      const rs = rules(`*${table}\n${decl}\n${line}\nCOMMIT\n`);
      const rule = rs.dump.tables[0]!.chains.find((c) => c.name === chain)!.rules[0]!;
      expect(explainRule(rule, 'ipv4', inferNetworks([rs.dump])).why).toBe(sentence);
    });
  }
});
