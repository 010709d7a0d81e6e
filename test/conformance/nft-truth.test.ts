// The simulator against the kernel's own answers on real libvirt 11.3 nftables hosts
// (../shared/corpus/nft-real: truth*.json are real TCP, UDP, DNS and DHCP packets sent between
// namespaces while libvirt's rules ran, with no dump loaded by anyone but libvirtd). Each case is
// traced from the listing taken at that moment — nft text and nft JSON alike, with the host's
// iptables-save when it holds tables — on the topology probe-ns.py built, and every probe must
// give what the kernel did: who answered, which source address arrived, or how it failed.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { parseNftJson } from '../../grammar/nft-json.js';
import { parseNftText } from '../../grammar/nft.js';
import { formatHost, parseHost } from '../../src/model/cidr.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { compileHost } from '../../src/sim/compile.js';
import { buildTopology, emptySpec, type Topology } from '../../src/sim/topology.js';
import { parseGuestFlag, parseUplinkFlag } from '../../src/cli/topology-flags.js';
import { prepare, trace, traceDhcp, type Simulator, type TraceResult } from '../../src/sim/trace.js';
import { describeCorpus, SHARED_CORPUS } from '../helpers/env.js';

const REAL = join(SHARED_CORPUS, 'nft-real');

interface TruthProbe {
  readonly from: string;
  readonly to: string;
  readonly proto: 'tcp' | 'udp' | 'dns-udp' | 'dns-tcp' | 'dhcp';
  readonly port: number;
  readonly result: string;
  readonly received: ReadonlyArray<{ readonly at: string; readonly src: string; readonly port: number }>;
}
interface Truth {
  readonly ip_forward: string;
  readonly probes: readonly TruthProbe[];
}

interface Case {
  readonly name: string;
  readonly dir: string;
  /** The listing and iptables-save taken while the probes ran (file stem). */
  readonly rules: string;
  readonly truth: string;
  readonly networks: readonly string[];
  /** More uplink addresses (p-priority-order SNATs to a second one). */
  readonly uplinkExtra?: string;
}

const CASES: readonly Case[] = [
  {
    name: 'a: default NAT network',
    dir: 'a-default-nat',
    rules: 'after',
    truth: 'truth.json',
    networks: ['network.xml'],
  },
  {
    name: 'b: host-only, ip_forward 0',
    dir: 'b-host-only',
    rules: 'after',
    truth: 'truth.json',
    networks: ['network.xml'],
  },
  {
    name: 'b: host-only, ip_forward forced 1',
    dir: 'b-host-only',
    rules: 'after',
    truth: 'truth-forced-forward.json',
    networks: ['network.xml'],
  },
  {
    name: 'k: iptables-nft host firewall + libvirt nft',
    dir: 'k-iptables-hostfw-plus-nft',
    rules: 'after',
    truth: 'truth.json',
    networks: ['network1.xml', 'network2.xml'],
  },
  {
    name: 'k: the traced second pass',
    dir: 'k-iptables-hostfw-plus-nft',
    rules: 'after-probes',
    truth: 'truth-traced.json',
    networks: ['network1.xml', 'network2.xml'],
  },
  {
    name: 'p: iptables-nft first, then libvirt nft',
    dir: 'p-priority-order',
    rules: 'ruleset-A',
    truth: 'truth-A.json',
    networks: ['network.xml'],
    uplinkExtra: '10.0.2.99',
  },
  {
    name: 'p: libvirt nft first, then iptables-nft',
    dir: 'p-priority-order',
    rules: 'ruleset-B',
    truth: 'truth-B.json',
    networks: ['network.xml'],
    uplinkExtra: '10.0.2.99',
  },
];

function topology(c: Case, truth: Truth): Topology {
  const networks = c.networks.map((f) => readNetworks(readFileSync(join(REAL, c.dir, f), 'utf8'), f)[0]!);
  const guests = networks.map((n, i) => {
    // probe-ns.py: a static .10 address, default via the bridge address (isolated networks too).
    const base = n.ips[0]!.address.value;
    return parseGuestFlag(
      `g${i + 1}@${n.bridge!.name}=${formatHost(4, (base & ~255n) + 10n)},gw=${formatHost(4, base)}`,
    );
  });
  const t = buildTopology({
    ...emptySpec(),
    networks,
    guests,
    autoGuests: false,
    outside: [parseHost('198.51.100.7')!],
    uplink: parseUplinkFlag('eth0=10.0.2.15/24,gw=10.0.2.2'),
    ipForward: truth.ip_forward === '1',
  });
  if (!c.uplinkExtra) return t;
  const extra = { address: parseHost(c.uplinkExtra)!, prefix: 24 };
  return {
    ...t,
    interfaces: t.interfaces.map((i) => (i.role === 'uplink' ? { ...i, addresses: [...i.addresses, extra] } : i)),
  };
}

function simulators(c: Case, t: Topology): Array<{ syntax: string; sim: Simulator }> {
  const ipt = join(REAL, c.dir, `${c.rules}.iptables-save.txt`);
  const text = existsSync(ipt) ? readFileSync(ipt, 'utf8') : '';
  const iptables = text.trim() === '' ? null : parseSave(text, { file: ipt });
  const file = (ext: string): string => join(REAL, c.dir, `${c.rules}.nft.${ext}`);
  return [
    {
      syntax: 'text',
      sim: prepare(
        compileHost({ iptables, nft: parseNftText(readFileSync(file('txt'), 'utf8'), { file: file('txt') }) }, 4),
        t,
      ),
    },
    {
      syntax: 'json',
      sim: prepare(
        compileHost({ iptables, nft: parseNftJson(readFileSync(file('json'), 'utf8'), { file: file('json') }) }, 4),
        t,
      ),
    },
  ];
}

const REFUSED = new Set(['icmp-port-unreachable', 'tcp-reset']);
/** UDP sockets hear only the "hard" ICMP errors (icmp_err_convert[].fatal). */
const UDP_SOFT = new Set(['icmp-net-unreachable', 'icmp-host-unreachable']);

/** What probe-ns.py would have printed, had the simulator been the kernel. */
function predicted(r: TraceResult, p: TruthProbe): string {
  const req = r.request;
  const udp = p.proto === 'udp' || p.proto === 'dns-udp' || p.proto === 'dhcp';
  switch (req.verdict) {
    case 'delivered': {
      if (r.reply?.verdict !== 'delivered') return 'timeout';
      if (p.proto === 'dhcp') return 'offered';
      if (p.proto === 'dns-udp' || p.proto === 'dns-tcp') return 'answered';
      return `delivered at ${req.at} from ${formatHost(4, req.seen!.src)}`;
    }
    case 'rejected':
      // No ICMP error answers a broadcast.
      if (p.proto === 'dhcp') return 'timeout';
      if (udp && UDP_SOFT.has(req.rejectWith!)) return 'timeout';
      return REFUSED.has(req.rejectWith!) ? 'refused' : 'unreachable';
    case 'dropped':
      return 'timeout';
    case 'unreachable':
      return req.signal === 'icmp-host-unreachable' || req.signal === 'icmp-net-unreachable'
        ? 'unreachable'
        : 'timeout';
    case 'unknown':
      return `unknown (${req.reason})`;
  }
}

function observed(p: TruthProbe): string {
  const word = p.result.split(' ')[0]!;
  if (word !== 'delivered') return word;
  const r = p.received[0]!;
  return `delivered at ${r.at} from ${r.src}`;
}

function run(sim: Simulator, p: TruthProbe): TraceResult {
  if (p.proto === 'dhcp') return traceDhcp(sim, p.from);
  const proto = p.proto === 'dns-udp' ? 'udp' : p.proto === 'dns-tcp' ? 'tcp' : p.proto;
  // probe-ns.py's outside namespace speaks from its link address.
  return trace(sim, {
    from: p.from,
    to: p.to,
    proto,
    dport: p.port,
    ...(p.from === 'outside' ? { fromAddress: '10.0.2.2' } : {}),
  });
}

describeCorpus('nft hosts: the simulator gives what the kernel did (nft-real truth)', () => {
  let total = 0;
  let agree = 0;
  const rows: Array<{ c: Case; syntax: string; lines: string[]; bad: string[] }> = [];
  for (const c of CASES) {
    const truth = JSON.parse(readFileSync(join(REAL, c.dir, c.truth), 'utf8')) as Truth;
    const t = topology(c, truth);
    for (const { syntax, sim } of simulators(c, t)) {
      const lines: string[] = [];
      const bad: string[] = [];
      for (const p of truth.probes) {
        const want = observed(p);
        const got = predicted(run(sim, p), p);
        total++;
        const line = `${p.from} → ${p.to} ${p.proto}/${p.port}: kernel ${want}, simulator ${got}`;
        lines.push(line);
        if (want === got) agree++;
        else bad.push(line);
      }
      rows.push({ c, syntax, lines, bad });
    }
  }
  it(`${CASES.length} captures × text and JSON: simulator = kernel on ${agree}/${total} probes`, () => {
    expect(rows.flatMap((r) => r.bad.map((b) => `${r.c.name} (${r.syntax}): ${b}`))).toEqual([]);
  });
  for (const r of rows) {
    describe(`${r.c.name} (${r.syntax})`, () => {
      it(`${r.lines.length - r.bad.length}/${r.lines.length} probes as the kernel`, () => {
        expect(r.bad).toEqual([]);
      });
    });
  }
});
