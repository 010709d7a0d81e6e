// The proof of `virtables check`: every reachability assertion kind — a connection (allowed,
// blocked, rejected), both ways, a port forward, a name lookup through the host's dnsmasq,
// a guest routing for another (masquerading or not) — evaluated on real libvirt 9.0.0
// captures and on the seed lab's dumps, is decided by traces that the Linux kernel
// reproduces: each probe behind each assertion is replayed in network namespaces (the sim
// helper's harness, test/helpers/netns.ts) and the kernel's outcome must be the simulator's.
// The kernel runs while the suite is collected, so the test names carry the counts.

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readBytesFromDisk } from '../../src/input/disk.js';
import { checkSheet, type AssertionResult } from '../../src/lab/check.js';
import { answerEvidence, commandLineEvidence } from '../../src/lab/evidence.js';
import type { TracedLeg } from '../../src/lab/reach.js';
import { loadSheet } from '../../src/lab/sheet.js';
import { formatHost, parseHost } from '../../src/model/cidr.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { addressOf, resolveNode, trace, type Simulator } from '../../src/sim/trace.js';
import { formatDump } from '../../src/write/save.js';
import { corpusSkipReason, describeKernel, kernelSkipReason, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';
import { runKernel } from '../helpers/netns.js';
import { compare, expectation, type Comparison } from '../helpers/scenarios.js';

const REAL = join(SHARED_CORPUS, 'libvirt-real');
const POLICIES = join(REPO_CORPUS, 'expect', 'real');
const LAB = join(REPO_CORPUS, 'labs', 'xen-networking');

interface Case {
  readonly name: string;
  readonly results: AssertionResult[];
}

function policy(
  name: string,
  file: string,
  given: { dump: string; before?: string; nets: string[]; rules?: string; guests?: Record<string, string> },
): Case {
  const networks = given.nets.flatMap((f) => readNetworks(read(f), f));
  const evidence = commandLineEvidence(
    {
      dump: given.dump,
      before: given.before ?? null,
      rules: given.rules ?? null,
      guestDumps: new Map(Object.entries(given.guests ?? {})),
      networks,
    },
    readBytesFromDisk,
  );
  const world = loadSheet(join(POLICIES, file), evidence, readBytesFromDisk);
  return { name, results: checkSheet(world, evidence, readBytesFromDisk).results };
}

function labAnswer(name: string, sheet: string, answer: string): Case {
  const evidence = answerEvidence(join(LAB, 'answers', answer), readBytesFromDisk);
  return {
    name,
    results: checkSheet(loadSheet(join(LAB, sheet), evidence, readBytesFromDisk), evidence, readBytesFromDisk).results,
  };
}

function cases(): Case[] {
  const hostOnly = { dump: join(REAL, 'b-host-only', 'after.txt'), nets: [join(REAL, 'b-host-only', 'network.xml')] };
  const natted = {
    dump: join(REAL, 'c-natted', 'after.txt'),
    before: join(REAL, 'c-natted', 'before.txt'),
    nets: [join(REAL, 'c-natted', 'network.xml')],
  };
  const internal = join(LAB, 'answers', '7', 'reference', 'internal.xml');
  return [
    policy('isolated network (libvirt 9.0.0 capture)', 'isolated.expect', hostOnly),
    policy('no DNS leak (libvirt 9.0.0 capture)', 'no-dns-leak.expect', hostOnly),
    labAnswer(
      'lab query 4, REJECT appended (seed lab rules, libvirt 0.6.3)',
      'q4-dns.expect',
      join('4', 'wrong-appended'),
    ),
    policy('NAT network with a port forward (libvirt 9.0.0 capture)', 'natted.expect', {
      ...natted,
      rules: join(POLICIES, 'portforward.txt'),
    }),
    policy('guest routing, masquerading (libvirt 9.0.0 capture)', 'router.expect', {
      ...natted,
      nets: [...natted.nets, internal],
      guests: { vm2: join(LAB, 'answers', '7', 'reference', 'vm2.save') },
    }),
    policy('guest routing, not masquerading (libvirt 9.0.0 capture)', 'router.expect', {
      ...natted,
      nets: [...natted.nets, internal],
      guests: { vm2: join(LAB, 'answers', '7', 'wrong-no-masquerade', 'vm2.save') },
    }),
    labAnswer(
      'lab query 5, accept appended (seed lab rules)',
      'q5-webserver.expect',
      join('5', 'wrong-appended-accept'),
    ),
    labAnswer('lab query 8, both start orders (seed lab rules)', 'q8-isolate.expect', join('8', 'wrong-nothing-added')),
    labAnswer(
      'lab query 6, onto the LAN without masquerading (seed lab rules)',
      'q6-router-bridged.expect',
      join('6', 'wrong-no-masquerade'),
    ),
  ];
}

interface Replay {
  readonly sim: Simulator;
  readonly legs: Array<{ readonly leg: TracedLeg; readonly assertion: AssertionResult }>;
}

/** The legs of all assertions, by the simulator (topology and ruleset) they were traced on. */
function replays(all: Case[]): Replay[] {
  const bySim = new Map<Simulator, Replay>();
  for (const c of all) {
    for (const assertion of c.results) {
      for (const leg of assertion.legs) {
        const r = bySim.get(leg.sim) ?? { sim: leg.sim, legs: [] };
        r.legs.push({ leg, assertion });
        bySim.set(leg.sim, r);
      }
    }
  }
  return [...bySim.values()];
}

function replay(r: Replay): { comparison: Comparison; sameAsChecked: string[] } {
  const sim = r.sim;
  const sameAsChecked: string[] = [];
  const scenario = {
    name: 'check',
    dump: formatDump(sim.ruleset.dump),
    topology: sim.topology,
    brNetfilter: sim.brNetfilter,
    probes: [],
  };
  const probes = r.legs.map(({ leg, assertion }, i) => {
    const s = leg.probe.service;
    const proto: 'tcp' | 'udp' | 'icmp' = s.proto === 'tcp' || s.proto === 'udp' ? s.proto : 'icmp';
    const dport = s.proto === 'tcp' || s.proto === 'udp' ? s.port : 0;
    const from = resolveNode(sim, leg.probe.from);
    const to = resolveNode(sim, leg.probe.to);
    const dst = formatHost(sim.family, to.address ?? addressOf(sim, to.node, from.node)!);
    const sport = 20000 + i;
    // The same probe with a port of its own (the kernel's conntrack keeps probes apart by port).
    const result = trace(sim, { from: leg.probe.from, to: dst, proto, ...(proto === 'icmp' ? {} : { dport }), sport });
    if (result.request.verdict !== leg.result.request.verdict || result.reply?.verdict !== leg.result.reply?.verdict)
      sameAsChecked.push(`${assertion.text}: ${leg.title} replays differently`);
    const bind = parseHost(leg.probe.from) ? leg.probe.from : null;
    return {
      spec: { from: leg.probe.from, to: dst, proto, dport } as const,
      result,
      probe: {
        id: i,
        from: from.node.kind === 'host' ? 'host' : from.node.endpoint.name,
        proto,
        dst,
        dport,
        sport,
        icmpId: 3000 + i,
        bind,
      },
    };
  });
  const run = runKernel(
    scenario.topology,
    scenario.dump,
    probes.map((p) => p.probe),
    { brNetfilter: sim.brNetfilter, extraPorts: { tcp: [22, 80, 8080, 8081], udp: [53, 67] } },
  );
  if (run.error)
    return { comparison: { total: probes.length, agree: 0, unknown: 0, disagreements: [run.error] }, sameAsChecked };
  // A guest forwarding another's packet unmasqueraded sends from an address the host cannot
  // route back to: the host's REJECT error goes elsewhere, so that sender sees silence, not an
  // error. The simulator's verdict (rejected) is the firewall's; compare what arrived, and that it failed.
  const observations = new Map(run.observations);
  for (const p of probes) {
    const got = observations.get(p.probe.id);
    if (
      p.probe.bind &&
      got &&
      p.result.request.verdict === 'rejected' &&
      got.client === 'timeout' &&
      got.arrival === null
    )
      observations.set(p.probe.id, { ...got, client: expectation(sim, p.result)?.client ?? got.client });
  }
  return { comparison: compare(sim, probes, observations), sameAsChecked };
}

describeKernel(
  'check: every assertion kind agrees with the kernel',
  () => {
    if (kernelSkipReason() !== null || corpusSkipReason() !== null) return;
    const all = cases();
    const assertions = all.flatMap((c) => c.results.filter((r) => r.kind === 'reach').map((r) => ({ c, r })));
    const results = replays(all).map((r) => ({ r, ...replay(r) }));
    const total = results.reduce((n, x) => n + x.comparison.total, 0);
    const agree = results.reduce((n, x) => n + x.comparison.agree, 0);

    it(`${assertions.length} assertions in ${all.length} cases, ${total} traced probes: the kernel agrees on ${agree}/${total}`, () => {
      expect(results.flatMap((x) => [...x.sameAsChecked, ...x.comparison.disagreements])).toEqual([]);
      expect(assertions.every(({ r }) => r.legs.length > 0)).toBe(true);
    });

    it('the cases cover every kind: allowed, blocked, rejected, both ways, port forward, dns, via a guest, passing and failing', () => {
      const texts = assertions.map(({ r }) => `${r.text} ${r.status}`);
      for (const kind of [
        /: allowed pass/,
        /: blocked pass/,
        /: rejected pass/,
        /<->.*pass/,
        /-> host:\d+ ->.* pass/,
        /-> host:\d+ ->.* fail/,
        /dns : allowed pass/,
        /dns : blocked fail/,
        /via vm2 pass/,
        /via vm2 fail/,
        /<->.*fail/,
      ]) {
        expect(
          texts.some((t) => kind.test(t)),
          String(kind),
        ).toBe(true);
      }
    });
  },
  { corpus: true },
);
