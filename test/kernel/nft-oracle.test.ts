// The proof of `virtables trace` on nftables hosts, as trace-oracle.test.ts is for iptables:
// libvirt 11.3's own nft table (from the nft-real capture) alone, next to a native `inet filter`
// firewall with drop policies, next to iptables-nft tables, each in both load orders, and nft's
// corners (sets, verdict maps, concatenations, marks, NAT chains at several priorities, port
// forwards, reject types). The rules are loaded into a namespace (`nft -f`, iptables-nft-restore);
// the simulator reads what `nft list ruleset` and iptables-nft-save print there afterwards — what
// a user would give it — and must give what real packets do. Legacy iptables next to nft at the
// same priority registers in an order no listing shows: there the simulator must answer
// "unknown" exactly where the two load orders give different kernel answers.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { parseNftText } from '../../grammar/nft.js';
import type { Network } from '../../src/model/network.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { applyProgram, emptyHostState } from '../../src/engine/apply.js';
import { compile } from '../../src/engine/compile.js';
import { formatNftRuleset } from '../../src/write/nft.js';
import { compileHost } from '../../src/sim/compile.js';
import { buildTopology, emptySpec, type Topology } from '../../src/sim/topology.js';
import { parseGuestFlag, parseUplinkFlag } from '../../src/cli/topology-flags.js';
import { prepare, type Simulator } from '../../src/sim/trace.js';
import { corpusSkipReason, describeKernel, kernelSkipReason, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { runKernel, type KernelRun, type RulesLoad } from '../helpers/netns.js';
import {
  agrees,
  compare,
  expectation,
  kernelProbes,
  matrixProbes,
  type Comparison,
  type ProbeSpec,
  type Scenario,
} from '../helpers/scenarios.js';

const K = join(SHARED_CORPUS, 'nft-real', 'k-iptables-hostfw-plus-nft');

const net = (file: string): Network => readNetworks(readFileSync(file, 'utf8'), file)[0]!;

/** The `table …` blocks of an nft listing whose heads match. */
function tables(listing: string, head: RegExp): string {
  const out: string[] = [];
  let keep = false;
  for (const line of listing.split('\n')) {
    if (line.startsWith('table ')) keep = head.test(line);
    if (keep) out.push(line);
  }
  return `${out.join('\n')}\n`;
}

interface NftScenario {
  readonly name: string;
  readonly topology: Topology;
  readonly loads: readonly RulesLoad[];
  readonly probes: readonly ProbeSpec[];
}

const INET_FILTER = `table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif "lo" accept
		tcp dport 22 accept
		icmp type echo-request accept
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
	}
	chain output {
		type filter hook output priority filter; policy accept;
	}
}
`;

const CORNERS = `table inet corners {
	set quiet {
		type ipv4_addr
		flags interval
		elements = { 192.168.123.0/28 }
	}
	chain c_pre {
		type filter hook prerouting priority mangle; policy accept;
		iifname "virbr0" tcp dport 80 meta mark set 0x2
	}
	chain c_forward {
		type filter hook forward priority -5; policy accept;
		meta mark 0x2 reject with icmp admin-prohibited
		ip saddr @quiet tcp dport 22 reject with tcp reset
		iifname vmap { "virbr1" : jump from_isolated }
		ip saddr . tcp dport { 192.168.122.11 . 80 } drop
	}
	chain from_isolated {
		udp dport 53 drop
		return
	}
	chain c_input {
		type filter hook input priority 10; policy accept;
		ip saddr . tcp dport { 192.168.122.11 . 22 } drop
		iifname "virbr*" tcp dport 80 reject with tcp reset
		icmp type echo-request limit rate 100/second accept
		fib daddr type local udp dport 53 ct state new counter
	}
}
table ip natc {
	chain c_pre {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "eth0" tcp dport 8080 dnat to 192.168.122.10:80
		iifname "eth0" tcp dport 8022 redirect to :22
	}
	chain c_post {
		type nat hook postrouting priority 90; policy accept;
		ip saddr 192.168.122.11 oifname "eth0" accept
		ip saddr 192.168.122.10 oifname "eth0" tcp dport 22 snat to 10.0.2.15:20000-30000
	}
	chain c_out {
		type nat hook output priority -100; policy accept;
		tcp dport 8080 dnat to 192.168.122.10:80
	}
}
`;

function scenarios(): NftScenario[] {
  const listing = readFileSync(join(K, 'after.nft.txt'), 'utf8');
  const libvirt = tables(listing, /^table ip6? libvirt_network /);
  const hostFw = readFileSync(join(K, 'before.iptables-save.txt'), 'utf8');
  const nets = [net(join(K, 'network1.xml')), net(join(K, 'network2.xml'))];
  const topology = buildTopology({
    ...emptySpec(),
    networks: nets,
    uplink: parseUplinkFlag('eth0=10.0.2.15/24,gw=10.0.2.2'),
    autoGuests: false,
    guests: [
      'vm1@virbr0=192.168.122.10',
      'vm2@virbr0=192.168.122.11',
      'vm3@virbr1=192.168.123.10,gw=192.168.123.1',
    ].map(parseGuestFlag),
  });
  const matrix = matrixProbes(topology);
  const nft = (text: string): RulesLoad => ({ tool: 'nft', text });
  const iptNft: RulesLoad = { tool: 'iptables-nft-restore', text: hostFw };
  const extra: ProbeSpec[] = [
    { from: 'outside', to: '10.0.2.15', proto: 'tcp', dport: 8080 },
    { from: 'outside', to: '10.0.2.15', proto: 'tcp', dport: 8022 },
    { from: 'host', to: 'outside', proto: 'tcp', dport: 8080 },
    { from: 'vm3', to: 'outside', proto: 'udp', dport: 53 },
  ];
  return [
    { name: "libvirt's nft table alone (default + host-only)", topology, loads: [nft(libvirt)], probes: matrix },
    {
      name: 'inet filter (policy drop) first, then libvirt',
      topology,
      loads: [nft(INET_FILTER), nft(libvirt)],
      probes: matrix,
    },
    {
      name: 'libvirt first, then inet filter (policy drop)',
      topology,
      loads: [nft(libvirt), nft(INET_FILTER)],
      probes: matrix,
    },
    {
      name: 'iptables-nft host firewall first, then libvirt (case k)',
      topology,
      loads: [iptNft, nft(libvirt)],
      probes: matrix,
    },
    {
      name: 'libvirt first, then the iptables-nft host firewall',
      topology,
      loads: [nft(libvirt), iptNft],
      probes: matrix,
    },
    {
      name: 'nft corners next to libvirt',
      topology,
      loads: [nft(libvirt), nft(CORNERS)],
      probes: [...matrix, ...extra],
    },
    ...routedScenarios(),
  ];
}

/**
 * A NAT and a routed network under libvirt's nft backend (compile --flavor libvirt-nft): the NAT
 * guest reaches the routed one through libvirt's own guest_input accept (audit's
 * networks-can-reach-each-other), and the reject audit proposes, in a table of the host's own,
 * stops it although libvirt's table accepts it.
 */
function routedScenarios(): NftScenario[] {
  const nets = [net(join(REPO_CORPUS, 'seed-lab', 'natted.xml')), net(join(REPO_CORPUS, 'audit', 'routed.xml'))];
  const libvirt = formatNftRuleset(applyProgram(compile(nets, { flavor: 'libvirt-nft' }), emptyHostState()).nft);
  const topology = buildTopology({
    ...emptySpec(),
    networks: nets,
    uplink: parseUplinkFlag('eth0=10.0.2.15/24,gw=10.0.2.2'),
    autoGuests: false,
    guests: ['vn@virbr2=192.168.124.10', 'vr@virbr5=192.168.150.10'].map(parseGuestFlag),
  });
  const apart = `table inet filter {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n\t\tiifname "virbr2" oifname "virbr5" reject\n\t}\n}\n`;
  const matrix = matrixProbes(topology);
  return [
    {
      name: 'libvirt nft: a NAT and a routed network',
      topology,
      loads: [{ tool: 'nft', text: libvirt }],
      probes: matrix,
    },
    {
      name: 'libvirt nft: NAT and routed, the pair rejected in inet filter',
      topology,
      loads: [
        { tool: 'nft', text: libvirt },
        { tool: 'nft', text: apart },
      ],
      probes: matrix,
    },
  ];
}

const LISTINGS = { nft: 'nft list ruleset', iptables: 'iptables-nft-save', legacy: 'iptables-legacy-save' };

/**
 * The simulator on what the kernel lists: nft's ruleset, and iptables-nft's or legacy's tables when the scenario loaded
 * some.
 */
function simulatorOn(s: NftScenario, run: KernelRun): Simulator {
  const usesLegacy = s.loads.some((l) => l.tool === 'iptables-legacy-restore');
  const ipt = usesLegacy ? (run.listings.legacy ?? '') : (run.listings.iptables ?? '');
  const iptables = ipt.trim() === '' ? null : parseSave(ipt, { file: `${s.name} (iptables-save)` });
  const nft = parseNftText(run.listings.nft ?? '', { file: `${s.name} (nft list ruleset)` });
  return prepare(compileHost({ iptables, nft }, 4), { ...s.topology, brNetfilter: 'off' });
}

function asScenario(s: NftScenario): Scenario {
  return { name: s.name, dump: '', topology: s.topology, brNetfilter: false, probes: s.probes };
}

describeKernel(
  'trace on nftables hosts: the simulator agrees with the kernel',
  () => {
    if (kernelSkipReason() !== null || corpusSkipReason() !== null) return;
    const all = scenarios();
    const results: Array<{ s: NftScenario; c: Comparison }> = [];
    for (const s of all) {
      const opts = { brNetfilter: false, extraPorts: { tcp: [80, 22], udp: [53] }, loads: s.loads, listings: LISTINGS };
      // Probes (ids, ports) are fixed before the kernel runs; the verdicts come from what it then lists.
      const first = runKernel(
        s.topology,
        '',
        kernelProbes(simulatorOnInputs(s), asScenario(s)).map((p) => p.probe),
        opts,
      );
      if (first.error) {
        results.push({ s, c: { total: s.probes.length, agree: 0, unknown: 0, disagreements: [first.error] } });
        continue;
      }
      const sim = simulatorOn(s, first);
      const probes = kernelProbes(sim, asScenario(s));
      let c = compare(sim, probes, first.observations);
      if (c.agree + c.unknown < c.total) {
        // A loaded machine can starve the agents past a probe's timeout: disagreeing probes go once more.
        const again = probes.filter(
          (p) => expectation(sim, p.result) !== null && !agrees(sim, p, first.observations.get(p.probe.id)),
        );
        const rerun = runKernel(
          s.topology,
          '',
          again.map((p) => p.probe),
          { ...opts, timeoutMs: 3000 },
        );
        if (!rerun.error) {
          const second = compare(sim, again, rerun.observations);
          c = {
            ...c,
            agree: c.agree + second.agree,
            disagreements: [
              ...c.disagreements.filter((d) => d.includes('simulator says unknown')),
              ...second.disagreements,
            ],
          };
        }
      }
      results.push({ s, c });
    }
    const total = results.reduce((n, r) => n + r.c.total, 0);
    const agree = results.reduce((n, r) => n + r.c.agree, 0);
    it(`${all.length} nft scenarios × ${total} probes: simulator = kernel on ${agree}/${total}`, () => {
      expect(results.flatMap((r) => r.c.disagreements.map((d) => `${r.s.name}: ${d}`))).toEqual([]);
    });
    for (const { s, c } of results) {
      it(`${s.name}: ${c.agree}/${c.total} probes agree`, () => {
        expect(c.disagreements).toEqual([]);
      });
    }
  },
  { corpus: true },
);

describeKernel(
  'trace: legacy iptables next to nft, whose order no listing shows',
  () => {
    if (kernelSkipReason() !== null || corpusSkipReason() !== null) return;
    const listing = readFileSync(join(K, 'after.nft.txt'), 'utf8');
    const libvirt = tables(listing, /^table ip6? libvirt_network /);
    const legacy: RulesLoad = {
      tool: 'iptables-legacy-restore',
      text: readFileSync(join(K, 'before.iptables-save.txt'), 'utf8'),
    };
    const base = scenarios()[0]!;
    const s: NftScenario = {
      ...base,
      name: 'legacy host firewall + libvirt nft',
      loads: [legacy, { tool: 'nft', text: libvirt }],
    };
    const opts = { brNetfilter: false, extraPorts: { tcp: [80, 22], udp: [53] }, listings: LISTINGS };
    const probeList = kernelProbes(simulatorOnInputs(s), asScenario(s)).map((p) => p.probe);
    let legacyFirst = runKernel(s.topology, '', probeList, { ...opts, loads: s.loads });
    let nftFirst = runKernel(s.topology, '', probeList, { ...opts, loads: [...s.loads].reverse() });
    const problems: string[] = [];
    let unknown = 0;
    let decided = 0;
    if (legacyFirst.error || nftFirst.error) problems.push(legacyFirst.error ?? nftFirst.error!);
    else {
      const sim = simulatorOn(s, legacyFirst);
      const probes = kernelProbes(sim, asScenario(s));
      const same = (p: (typeof probes)[number]): boolean => {
        const a = legacyFirst.observations.get(p.probe.id);
        const b = nftFirst.observations.get(p.probe.id);
        return JSON.stringify({ c: a?.client, r: a?.arrival }) === JSON.stringify({ c: b?.client, r: b?.arrival });
      };
      const fine = (p: (typeof probes)[number]): boolean =>
        expectation(sim, p.result) === null
          ? !same(p)
          : agrees(sim, p, legacyFirst.observations.get(p.probe.id)) &&
            agrees(sim, p, nftFirst.observations.get(p.probe.id));
      // A loaded machine can starve the agents past a timeout: probes that look wrong go once more, slower.
      const again = probes.filter((p) => !fine(p)).map((p) => p.probe);
      if (again.length > 0) {
        const slow = { ...opts, timeoutMs: 3000 };
        const a = runKernel(s.topology, '', again, { ...slow, loads: s.loads });
        const b = runKernel(s.topology, '', again, { ...slow, loads: [...s.loads].reverse() });
        if (!a.error && !b.error) {
          legacyFirst = { ...legacyFirst, observations: new Map([...legacyFirst.observations, ...a.observations]) };
          nftFirst = { ...nftFirst, observations: new Map([...nftFirst.observations, ...b.observations]) };
        }
      }
      for (const p of probes) {
        const word = `${p.spec.from} → ${p.probe.dst} ${p.spec.proto}/${p.spec.dport}`;
        const a = legacyFirst.observations.get(p.probe.id)?.client;
        const b = nftFirst.observations.get(p.probe.id)?.client;
        if (expectation(sim, p.result) === null) {
          unknown++;
          // The simulator says it depends on the order: the two orders must really differ.
          if (same(p))
            problems.push(`${word}: simulator unknown (${p.result.request.reason}), but both orders gave ${a}`);
        } else {
          decided++;
          if (!fine(p)) problems.push(`${word}: simulator ${p.result.request.verdict}, kernel ${a} / ${b}`);
        }
      }
    }
    it(`${decided} probes decided as both load orders, ${unknown} unknown where the orders differ`, () => {
      expect(problems).toEqual([]);
      expect(unknown).toBeGreaterThan(0);
    });
  },
  { corpus: true },
);

/** Before the kernel has listed anything: the scenario's own rules, for the probes' addresses. */
function simulatorOnInputs(s: NftScenario): Simulator {
  return prepare(compileHost({ iptables: null, nft: parseNftText('', { file: 'none' }) }, 4), s.topology);
}
