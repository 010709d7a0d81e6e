// A sample of the decided cells of a TUM matrix (test/unit/tum-decided.test.ts), replayed with real
// packets: the chair firewall of 2015-05-13 (4.8k rules; its censored MACs given one real value,
// as test/kernel/roundtrip.test.ts loads it), its 20 VLAN networks with one machine each (with a
// MAC, so -m mac decides), the uplink and outside, in namespaces. The lists -m recent reads are
// empty in a fresh namespace, so the simulator runs with --assume 'recent empty'; every decided
// cell sampled must be the kernel's answer.

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { compileDump } from '../../src/sim/compile.js';
import { evalEnv, parseAssumptions } from '../../src/sim/env.js';
import { prepare, trace } from '../../src/sim/trace.js';
import { describeKernel, kernelSkipReason, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';
import { runKernel } from '../helpers/netns.js';
import { compare, kernelProbes, matrixProbes, type Scenario } from '../helpers/scenarios.js';
import { tumTopology } from '../helpers/tum.js';

const FILE = join(
  SHARED_CORPUS,
  'real-world',
  'configs_chair_for_Network_Architectures_and_Services__iptables-save-2015-05-13_10-53-20',
);
/** Every SAMPLE-th decided cell. */
const SAMPLE = 6;

describeKernel(
  'TUM matrix: decided cells replayed in namespaces',
  () => {
    if (kernelSkipReason() !== null) return;
    const text = read(FILE).replaceAll('XX:XX:XX:XX:XX:XX', '02:00:00:00:00:01');
    const topology = tumTopology(text, 4, true);
    const env = evalEnv({ assume: parseAssumptions('test', ['recent empty']) });
    const sim = prepare(compileDump(parseSave(text, { file: FILE }), 4, { env }), { ...topology, brNetfilter: 'off' });
    const all = matrixProbes(topology);
    const decided = all.filter((p) => {
      const r = trace(sim, { from: p.from, to: p.to, proto: p.proto, dport: p.dport, quiet: true });
      return r.request.verdict !== 'unknown' && r.reply?.verdict !== 'unknown';
    });
    const sample = decided.filter((_, i) => i % SAMPLE === 0);
    const s: Scenario = { name: 'tum', dump: text, topology, brNetfilter: false, probes: sample };
    const probes = kernelProbes(sim, s);
    const run = runKernel(
      topology,
      text,
      probes.map((p) => p.probe),
      { brNetfilter: false, extraPorts: { tcp: [22, 80], udp: [53] }, deadlineMs: 300_000 },
    );
    // 22 namespaces and 4.8k rules take a loaded machine longer to set up than the runner's default minute.
    const c = run.error
      ? { total: probes.length, agree: 0, unknown: 0, disagreements: [run.error] }
      : compare(sim, probes, run.observations);
    const verdicts = new Map<string, number>();
    for (const p of probes) verdicts.set(p.result.request.verdict, (verdicts.get(p.result.request.verdict) ?? 0) + 1);
    const mix = [...verdicts].map(([v, n]) => `${n} ${v}`).join(', ');
    it(`${decided.length} of ${all.length} cells decided; every ${SAMPLE}th replayed: simulator = kernel on ${c.agree}/${c.total} (${mix})`, () => {
      expect(c.disagreements).toEqual([]);
      expect(c.total).toBeGreaterThan(100);
    });
  },
  { corpus: true },
);
