// -m recent, explored both ways, against real packets in both states of the host's lists. The
// rules: a recent check before a REJECT of all ICMP (the same verdict in every state), a recent
// DROP after a REJECT of all DNS (never asked), and an ssh rate limit on SYNs (--set, then --rcheck
// --hitcount 5: the first connection passes, the tenth is refused; 5, not 2, because a probe the
// loaded machine answers late is sent once more). The kernel runs them twice: with
// fresh lists, and with every sender's address given nine hits first (/proc/net/xt_recent). Every
// decided verdict must be the kernel's in both runs; every undecided one must name rule 10 and
// give the fresh run's answer where rule 10 does not match and the primed run's where it does.

import { expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { formatHost } from '../../src/model/cidr.js';
import { compileDump } from '../../src/sim/compile.js';
import { evalEnv, parseAssumptions } from '../../src/sim/env.js';
import { prepare, traceWay, type Simulator, type TraceResult } from '../../src/sim/trace.js';
import { describeKernel, kernelSkipReason } from '../helpers/env.js';
import { runKernel, type Observation } from '../helpers/netns.js';
import { expectation, kernelProbes, matrixProbes, twoBridgeTopology, type Scenario } from '../helpers/scenarios.js';

const RULES = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p icmp -m recent --rcheck --name ping --rsource -j REJECT --reject-with icmp-host-prohibited
-A INPUT -p icmp -j REJECT --reject-with icmp-host-prohibited
-A INPUT -p udp -m udp --dport 53 -j REJECT --reject-with icmp-port-unreachable
-A INPUT -p udp -m udp --dport 53 -m recent --update --seconds 60 --name dns --rsource -j DROP
-A INPUT -p tcp -m tcp --dport 22 --tcp-flags FIN,SYN,RST,ACK SYN -m recent --set --name ssh --rsource
-A INPUT -p tcp -m tcp --dport 22 --tcp-flags FIN,SYN,RST,ACK SYN -m recent --rcheck --seconds 60 --hitcount 5 --name ssh --rsource -j REJECT --reject-with tcp-reset
COMMIT
`;

function scenario(): Scenario {
  const topology = twoBridgeTopology(
    [
      'vm1@virbr0=192.168.122.10,port=vnet0',
      'vm2@virbr0=192.168.122.11,port=vnet1',
      'vm3@virbr1=192.168.123.10,port=vnet2',
    ],
    { brNetfilter: 'off' },
  );
  return { name: 'recent', dump: RULES, topology, brNetfilter: false, probes: matrixProbes(topology) };
}

function simulator(s: Scenario, assume: string[] = []): Simulator {
  const env = evalEnv({ assume: parseAssumptions('test', assume) });
  return prepare(compileDump(parseSave(s.dump, { file: s.name }), 4, { env }), { ...s.topology, brNetfilter: 'off' });
}

/** Nine hits for every sender's address in every list the rules name. */
function priming(s: Scenario): string {
  const addrs = s.topology.endpoints
    .flatMap((e) => [...e.addresses.map((a) => a.address), ...e.extra])
    .filter((a) => a.family === 4)
    .map((a) => formatHost(4, a.value));
  const writes = ['ping', 'dns', 'ssh'].flatMap((list) =>
    addrs.map((a) => `for i in 1 2 3 4 5 6 7 8 9; do echo +${a} > /proc/net/xt_recent/${list}; done`),
  );
  return `ip netns exec host sh -ec '${writes.join('; ')}'`;
}

type Probes = ReturnType<typeof kernelProbes>;

/** Probes whose expectation (from `pick`) the kernel met, and the rest described. */
function agreement(
  sim: Simulator,
  probes: Probes,
  observed: Map<number, Observation>,
  pick: (p: Probes[number]) => TraceResult,
) {
  const wrong: string[] = [];
  for (const p of probes) {
    const r = pick(p);
    const want = expectation(sim, r);
    const got = observed.get(p.probe.id);
    const same =
      want !== null &&
      got !== undefined &&
      got.client === want.client &&
      JSON.stringify(got.arrival) === JSON.stringify(want.arrival);
    if (!same)
      wrong.push(
        `${p.spec.from} → ${p.probe.dst} ${p.spec.proto}/${p.spec.dport}: simulator ${r.request.verdict} (${r.request.reason}) → ${JSON.stringify(want)}, kernel ${JSON.stringify(got)}`,
      );
  }
  return { agree: probes.length - wrong.length, wrong };
}

describeKernel('-m recent explored both ways agrees with the kernel in both states', () => {
  if (kernelSkipReason() !== null) return;
  const s = scenario();
  const sim = simulator(s);
  const probes = kernelProbes(sim, s);
  const fresh = runKernel(
    s.topology,
    s.dump,
    probes.map((p) => p.probe),
    { brNetfilter: false, extraPorts: { tcp: [22], udp: [53] } },
  );
  const primed = runKernel(
    s.topology,
    s.dump,
    probes.map((p) => p.probe),
    { brNetfilter: false, extraPorts: { tcp: [22], udp: [53] }, afterDump: [priming(s)] },
  );
  const undecided = probes.filter((p) => p.result.branches && !p.result.branches.decided);
  const way = (p: Probes[number], ways: boolean[]): TraceResult =>
    traceWay(
      sim,
      { from: p.spec.from, to: p.probe.dst, proto: p.spec.proto, dport: p.spec.dport, sport: p.probe.sport },
      ways,
    );
  // Decided probes as they are; undecided ones the way each kernel state takes.
  const freshly = agreement(sim, probes, fresh.observations, (p) =>
    undecided.includes(p) ? way(p, [false]) : p.result,
  );
  const primedly = agreement(sim, probes, primed.observations, (p) =>
    undecided.includes(p) ? way(p, [true]) : p.result,
  );

  it(`the kernel ran both states (${probes.length} probes each)`, () => {
    expect(fresh.error).toBeNull();
    expect(primed.error).toBeNull();
  });
  it(`undecided: exactly tcp/22 to the host (${undecided.length}), each naming rule 10 and both outcomes`, () => {
    expect(undecided.map((p) => `${p.spec.from} ${p.spec.proto}/${p.spec.dport}`).sort()).toEqual([
      'outside tcp/22',
      'vm1 tcp/22',
      'vm2 tcp/22',
      'vm3 tcp/22',
    ]);
    for (const p of undecided) {
      expect(p.result.branches!.rules.map((r) => r.rule.rule?.line)).toEqual([10]);
      expect(p.result.branches!.paths.map((x) => x.outcome)).toEqual([
        'delivered, reply delivered',
        'rejected by rule 10 (tcp-reset)',
      ]);
      expect(p.result.request.reason).toMatch(
        /^the first packet depends on rule 10 \(filter INPUT: -m recent --rcheck --seconds 60 --hitcount 5/,
      );
    }
    // ICMP to the host asks rule 5, and is rejected whichever way it goes.
    const ping = probes.filter((p) => p.spec.to === 'host' && p.spec.proto === 'icmp');
    expect(ping.every((p) => p.result.branches?.decided === true && p.result.request.verdict === 'rejected')).toBe(
      true,
    );
  });
  it(`fresh lists: simulator = kernel on ${freshly.agree}/${probes.length}`, () => {
    expect(freshly.wrong).toEqual([]);
  });
  it(`nine hits first: simulator = kernel on ${primedly.agree}/${probes.length}`, () => {
    expect(primedly.wrong).toEqual([]);
  });
  it("--assume 'recent empty': every probe decided, as the fresh kernel", () => {
    const assumed = simulator(s, ['recent empty']);
    const results = kernelProbes(assumed, s);
    expect(results.filter((p) => p.result.request.verdict === 'unknown')).toEqual([]);
    expect(agreement(assumed, results, fresh.observations, (p) => p.result).wrong).toEqual([]);
  });
});
