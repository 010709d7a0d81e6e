// Port forwards written only in nft (`dnat to` in a host table), checked against the kernel: each
// corpus/nft-forwards listing (printed by `nft list ruleset` after `nft -f` of its .nft) is loaded
// into a namespace host with its libvirt network's bridge and a guest, and a real connection is
// sent from outside to the forwarded port. The audit must say what the packet did: the forward
// reaches the guest (guest-reachable-from-outside names it) or it does not
// (port-forward-never-reaches-guest names what stops it), and the simulator must agree with the
// kernel on every probe.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseNftText } from '../../grammar/nft.js';
import { runAudit } from '../../src/audit/run.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { compileHost } from '../../src/sim/compile.js';
import { buildTopology, emptySpec } from '../../src/sim/topology.js';
import { parseGuestFlag, parseUplinkFlag } from '../../src/cli/topology-flags.js';
import { prepare } from '../../src/sim/trace.js';
import { corpusSkipReason, describeKernel, kernelSkipReason, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { runKernel } from '../helpers/netns.js';
import { compare, kernelProbes, type ProbeSpec } from '../helpers/scenarios.js';

const DIR = join(REPO_CORPUS, 'nft-forwards');
const NAT_XML = join(SHARED_CORPUS, 'nft-real', 'a-default-nat', 'network.xml');
const ROUTED_XML = join(REPO_CORPUS, 'audit', 'routed.xml');

interface Case {
  readonly file: string;
  readonly xml: string;
  readonly guest: string;
  readonly dport: number;
  /** What the kernel does with the forwarded connection (asserted, and the audit must say the same). */
  readonly reaches: boolean;
}

const CASES: readonly Case[] = [
  { file: 'nat-forward', xml: NAT_XML, guest: 'vm@virbr0=192.168.122.10', dport: 2222, reaches: false },
  { file: 'nat-forward-fixed', xml: NAT_XML, guest: 'vm@virbr0=192.168.122.10', dport: 2222, reaches: true },
  { file: 'routed-forward', xml: ROUTED_XML, guest: 'vm@virbr5=192.168.150.10', dport: 8080, reaches: true },
  { file: 'routed-forward-hostfw', xml: ROUTED_XML, guest: 'vm@virbr5=192.168.150.10', dport: 8080, reaches: false },
];

describeKernel(
  'nft-only port forwards: audit and simulator against real packets',
  () => {
    if (kernelSkipReason() !== null || corpusSkipReason() !== null) return;
    for (const c of CASES) {
      const file = join(DIR, `${c.file}.listed.txt`);
      const text = readFileSync(file, 'utf8');
      const net = readNetworks(readFileSync(c.xml, 'utf8'), c.xml)[0]!;
      const topology = buildTopology({
        ...emptySpec(),
        networks: [net],
        uplink: parseUplinkFlag('eth0=10.0.2.15/24,gw=10.0.2.2'),
        autoGuests: false,
        guests: [parseGuestFlag(c.guest)],
      });
      const forward: ProbeSpec = { from: 'outside', to: '10.0.2.15', proto: 'tcp', dport: c.dport };
      const probes: ProbeSpec[] = [
        forward,
        { from: 'outside', to: 'vm', proto: 'tcp', dport: 22 },
        { from: 'vm', to: 'outside', proto: 'tcp', dport: 80 },
      ];
      const nft = parseNftText(text, { file });
      const sim = prepare(compileHost({ iptables: null, nft }, 4), { ...topology, brNetfilter: 'off' });
      const scenario = { name: c.file, dump: '', topology, brNetfilter: false, probes };
      const list = kernelProbes(sim, scenario);
      const run = runKernel(
        topology,
        '',
        list.map((p) => p.probe),
        { brNetfilter: false, extraPorts: { tcp: [80, 22], udp: [] }, loads: [{ tool: 'nft', text }] },
      );
      it(`${c.file}: the kernel ${c.reaches ? 'delivers' : 'refuses'} the forwarded connection, and the simulator agrees on every probe`, () => {
        expect(run.error).toBeNull();
        expect(run.observations.get(0)?.client).toBe(
          c.reaches ? 'ok' : c.file.includes('hostfw') ? 'timeout' : 'ECONNREFUSED',
        );
        expect(compare(sim, list, run.observations).disagreements).toEqual([]);
      });
      it(`${c.file}: audit says the forward ${c.reaches ? 'reaches' : 'never reaches'} the guest`, async () => {
        const report = await runAudit({ dumps: [], nft, running: [net], inactive: [] });
        const about = report.findings.filter((f) => f.message.includes(`dnat to ${c.guest.split('=')[1]}`));
        expect(about.map((f) => f.id)).toEqual([
          c.reaches ? 'guest-reachable-from-outside' : 'port-forward-never-reaches-guest',
        ]);
      });
    }
  },
  { corpus: true },
);
