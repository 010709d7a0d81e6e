// The audit's reachability verdicts replayed with real packets: for real libvirt 9.0 captures
// with IPv6 nat and route networks (corpus/libvirt-ipv6) in both families, and for Xen's
// vif-nat and vif-route captures, the very simulated host the checks judge (ctx.reachability())
// is built with network namespaces, the dump loaded with ip6tables-legacy-restore (IPv6) or
// iptables-legacy-restore (IPv4), and each probe the checks ask (outside → guest, guest →
// outside, guest → guest, a stranger → guest, guest → the host's DNS) sent for real. The
// kernel must do what the simulator said, and the simulator what the audit's probes said.

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseSaveBytes } from '../../grammar/iptables-save.js';
import { parseNftText } from '../../grammar/nft.js';
import { simulatedContext } from '../../src/audit/run.js';
import type { Probes } from '../../src/audit/probes.js';
import { readNetworkInputs } from '../../src/cli/inputs.js';
import { readBytesFromDisk } from '../../src/input/disk.js';
import type { Io } from '../../src/cli/io.js';
import { describeKernel, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';
import { brNetfilterAvailable, runKernel } from '../helpers/netns.js';
import { compare, expectation, kernelProbes, type ProbeSpec, type Scenario } from '../helpers/scenarios.js';

const V6 = join(REPO_CORPUS, 'libvirt-ipv6');
const XEN = join(SHARED_CORPUS, 'xen', 'captures');
const io: Io = {
  stdout: () => {},
  stderr: () => {},
  stdoutIsTTY: false,
  stderrIsTTY: false,
  env: {},
  readBytes: readBytesFromDisk,
};

interface Replay {
  readonly name: string;
  readonly probes: Probes;
  /** The dump of the family, as the kernel loads it ('' when the rules are all nft's). */
  readonly dump: string;
  /** The host's nft ruleset, loaded with `nft -f` after the dump. */
  readonly nft: string | null;
  readonly specs: ProbeSpec[];
  /** The audit's own verdict for each spec (from the probes the checks use). */
  readonly audited: string[];
}

/** The hosts the audit's reachability checks judge, one per family, with the probes they ask. */
async function replays(
  name: string,
  dumps: readonly string[],
  nets: readonly string[],
  nftFile?: string,
): Promise<Replay[]> {
  const nft = nftFile ? parseNftText(read(nftFile), { file: nftFile }) : null;
  const ctx = await simulatedContext({
    dumps: dumps.map((f) => parseSaveBytes(readBytesFromDisk(f), { file: f })),
    nft,
    running: readNetworkInputs('audit', nets, io),
    inactive: [],
  });
  return ctx.reachability().map((probes) => {
    const subjects = probes.subjects.filter((s) => ctx.hasRules(s.network, probes.family));
    const specs: ProbeSpec[] = [];
    const audited: string[] = [];
    const ask = (spec: ProbeSpec, verdict: string): void => {
      specs.push(spec);
      audited.push(verdict);
    };
    for (const s of subjects) {
      ask({ from: 'outside', to: s.endpoint, proto: 'tcp', dport: 22 }, probes.in(s).request.verdict);
      ask({ from: s.endpoint, to: 'outside', proto: 'tcp', dport: 80 }, probes.out(s).request.verdict);
      ask({ from: 'stranger', to: s.endpoint, proto: 'tcp', dport: 22 }, probes.stranger(s).request.verdict);
      if (s.vif === null) ask({ from: s.endpoint, to: 'host', proto: 'udp', dport: 53 }, probes.dns(s).request.verdict);
      for (const t of subjects)
        if (t !== s)
          ask({ from: s.endpoint, to: t.endpoint, proto: 'tcp', dport: 22 }, probes.pair(s, t).request.verdict);
    }
    for (const pf of probes.portForwards)
      ask({ from: 'outside', to: pf.address, proto: pf.proto, dport: pf.dport }, pf.result.request.verdict);
    const dump = dumps.find(
      (f) => ctx.dumps.find((d) => d.file === f)?.family === (probes.family === 6 ? 'ipv6' : 'ipv4'),
    );
    return {
      name: `${name} IPv${probes.family}`,
      probes,
      dump: dump ? read(dump) : '',
      nft: nftFile ? read(nftFile) : null,
      specs,
      audited,
    };
  });
}

const three = (dir: string): string[] => [1, 2, 3].map((i) => join(V6, dir, `network${i}.xml`));

function replay(r: Replay): void {
  const sim = r.probes.sim;
  const scenario: Scenario = {
    name: r.name,
    dump: r.dump,
    topology: sim.topology,
    brNetfilter: sim.brNetfilter,
    probes: r.specs,
  };
  const probes = kernelProbes(sim, scenario);
  // The simulator traced anew (other source ports) says what the audit's probes said.
  expect(probes.map((p) => p.result.request.verdict)).toEqual(r.audited);
  const loads = r.nft ? [{ tool: 'nft' as const, text: r.nft }] : [];
  const run = runKernel(
    sim.topology,
    r.dump,
    probes.map((p) => p.probe),
    { brNetfilter: sim.brNetfilter, family: sim.family, extraPorts: { tcp: [22, 80], udp: [53] }, loads },
  );
  expect(run.error).toBeNull();
  const cmp = compare(sim, probes, run.observations);
  expect(cmp.disagreements).toEqual([]);
  expect(cmp.agree).toBe(probes.length);
}

/** The kernel's answer to one probe: `ok` (connected), an errno, or `timeout`. */
function kernelSays(r: Replay, from: string, to: string): string | undefined {
  const sim = r.probes.sim;
  const i = r.specs.findIndex((s) => s.from === from && s.to === to && s.proto === 'tcp');
  const probes = kernelProbes(sim, {
    name: r.name,
    dump: r.dump,
    topology: sim.topology,
    brNetfilter: sim.brNetfilter,
    probes: [r.specs[i]!],
  });
  const run = runKernel(
    sim.topology,
    r.dump,
    probes.map((p) => p.probe),
    { brNetfilter: sim.brNetfilter, family: sim.family, extraPorts: { tcp: [22, 80], udp: [53] } },
  );
  return run.observations.get(0)?.client ?? run.error ?? undefined;
}

describeKernel('IPv6 kernel replay: libvirt 9.0 dual-stack captures', () => {
  it('nat6: the kernel refuses outside → guest over IPv4 and lets it through over IPv6, as the audit says', async () => {
    const d = join(V6, 'd-nat6');
    const [v4, v6] = await replays(
      'd-nat6',
      [join(d, 'after.txt'), join(d, 'after.ip6.txt')],
      [join(d, 'network.xml')],
    );
    expect([v4!.probes.family, v6!.probes.family]).toEqual([4, 6]);
    const guest = v6!.probes.subjects[0]!.endpoint;
    expect(expectation(v6!.probes.sim, v6!.probes.in(v6!.probes.subjects[0]!))?.client).toBe('ok');
    expect(kernelSays(v6!, 'outside', guest)).toBe('ok');
    expect(kernelSays(v4!, 'outside', guest)).toBe('ECONNREFUSED');
    for (const r of [v4!, v6!]) replay(r);
  });

  it("libvirt's nftables backend (table ip6 libvirt_network, as nft 1.0.6 lists it): the same IPv6 verdicts, kernel-checked", async () => {
    const hosts = await replays(
      'nft nat6',
      [],
      [join(V6, 'd-nat6', 'network.xml')],
      join(V6, 'nft', 'nat6.listed.txt'),
    );
    expect(hosts.map((h) => h.probes.family)).toEqual([4, 6]);
    const v6 = hosts[1]!;
    expect(v6.audited[0]).toBe('delivered');
    expect(hosts[0]!.audited[0]).toBe('rejected');
    for (const r of hosts) replay(r);
  });

  it.each([
    ['e-three-dual-stack', 'after.txt', 'after.ip6.txt'],
    ['f-three-dual-stack-legacy', 'after.legacy.txt', 'after.legacy6.txt'],
  ] as const)('%s: every probe of every network and pair agrees with the kernel, per family', async (dir, v4, v6) => {
    const hosts = await replays(dir, [join(V6, dir, v4), join(V6, dir, v6)], three(dir));
    expect(hosts.map((h) => [h.probes.family, h.specs.length])).toEqual([
      [4, 18],
      [6, 18],
    ]);
    for (const r of hosts) replay(r);
  });
});

describeKernel('IPv6 kernel replay: a port forward over IPv6', () => {
  it("the DNAT to [2001:db8:126::10]:80 with its accept below libvirt's jumps: rejected, as the audit says", async () => {
    const dir = join(REPO_CORPUS, 'audit', 'ipv6');
    const [host] = await replays('pf6', [join(dir, 'port-forward6.ip6.save')], [join(dir, 'natted6-nat.xml')]);
    expect(host!.probes.family).toBe(6);
    expect(host!.probes.portForwards.map((p) => p.result.request.verdict)).toEqual(['rejected']);
    replay(host!);
  });
});

describeKernel("IPv6 kernel replay: a rule shadowing libvirt's over IPv6", () => {
  it("an admin's DROP first in LIBVIRT_FWO: nat6's guests cannot get out over IPv6, as shadowed-rule says", async () => {
    const dir = 'f-three-dual-stack-legacy';
    const [host] = await replays(
      'shadowed6',
      [join(REPO_CORPUS, 'audit', 'ipv6', 'shadowed-drop6.ip6.save')],
      three(dir),
    );
    expect(host!.probes.family).toBe(6);
    const nat6 = host!.probes.subjects.find((s) => s.network.name === 'nat6')!;
    expect(host!.probes.out(nat6).request.verdict).toBe('dropped');
    replay(host!);
  });

  it("an admin's ACCEPT above isolated6's reject-out: its guests get out over IPv6, as shadowed-rule says", async () => {
    const [host] = await replays(
      'bypassed6',
      [join(REPO_CORPUS, 'audit', 'ipv6', 'isolated-bypassed6.ip6.save')],
      three('f-three-dual-stack-legacy'),
    );
    const isolated6 = host!.probes.subjects.find((s) => s.network.name === 'isolated6')!;
    expect(host!.probes.out(isolated6).request.verdict).toBe('delivered');
    replay(host!);
  });
});

describeKernel("IPv6 kernel replay: <nat ipv6='yes'/> without its MASQUERADE rules", () => {
  it("the outside sees the guest's own IPv6 address, as masquerade-missing says", async () => {
    const dir = join(REPO_CORPUS, 'audit', 'ipv6');
    const [host] = await replays('masq6', [join(dir, 'masquerade-missing6.ip6.save')], [join(dir, 'natted6-nat.xml')]);
    const s = host!.probes.subjects[0]!;
    const out = host!.probes.out(s);
    expect([out.request.verdict, out.request.seen?.src]).toEqual(['delivered', s.guest.value]);
    replay(host!);
  });
});

describeKernel(
  'Xen kernel replay: vif-nat and vif-route captures',
  () => {
    it.each([
      ['head-vif-nat-ip', 'online'],
      ['head-vif-route', 'online'],
    ] as const)("%s: the audit's probes agree with the kernel", async (capture, step) => {
      const hosts = await replays(
        capture,
        [join(XEN, capture, `${step}.save`)],
        [join(REPO_CORPUS, 'xen', capture, `${step}.xen`)],
      );
      expect(hosts.map((h) => h.probes.family)).toEqual([4]);
      expect(hosts[0]!.probes.subjects.map((s) => s.vif)).toHaveLength(1);
      if (hosts[0]!.probes.sim.brNetfilter && !brNetfilterAvailable())
        throw new Error('br_netfilter is not loaded here');
      replay(hosts[0]!);
    });
  },
  { corpus: true },
);

describeKernel('Xen kernel replay: the seed lab host with vm1–vm3 on xenbr0, br_netfilter on', () => {
  it("vif-bridge's appended accepts: the host's REJECT decides bridged traffic, as the audit says; libvirt's networks as before", async () => {
    if (!brNetfilterAvailable()) throw new Error('br_netfilter is not loaded here: bridged traffic cannot be replayed');
    const seed = join(REPO_CORPUS, 'seed-lab');
    const nets = ['default.xml', 'host-only.xml', 'natted.xml', 'xenbr0.xen'].map((f) => join(seed, f));
    const [host] = await replays('seed lab xenbr0', [join(seed, 'xenbr0-host.save')], nets);
    expect(host!.probes.sim.brNetfilter).toBe(true);
    const dom1 = host!.specs.findIndex((s) => s.from === 'dom1' && s.to === 'outside');
    expect(host!.audited[dom1]).toBe('rejected');
    replay(host!);
  });
});
