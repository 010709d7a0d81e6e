// `-m set` and `-j SET` decided by membership, checked against the kernel: sets of every kind the
// rules use are made with the real `ipset` in a private namespace, what `ipset save` printed is read
// by grammar/ipset.ts and given to the simulator, and the same save is restored in the oracle's host
// namespace before the rules. Every probe of the matrix (host, four guests, outside; icmp, tcp/22,
// tcp/80, udp/53) must get the kernel's answer: flags per dimension, nomatch members, the most
// specific net, --return-nomatch, `!`, too few flags, list:set, hash:net,iface (and its physdev:
// members), bitmap:port with ICMP, MAC members, and members a rule adds or deletes on the way.

import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { parseIpsetSave } from '../../grammar/ipset.js';
import { parseSave } from '../../grammar/iptables-save.js';
import { compileDump } from '../../src/sim/compile.js';
import { evalEnv } from '../../src/sim/env.js';
import { prepare } from '../../src/sim/trace.js';
import { describeKernel, kernelSkipReason } from '../helpers/env.js';
import { runKernel } from '../helpers/netns.js';
import { compare, kernelProbes, matrixProbes, twoBridgeTopology, type Scenario } from '../helpers/scenarios.js';

/** The sets, made by the real ipset in a namespace of their own; what it saves is the fixture. */
const MAKE_SETS = `
ipset create blockip hash:ip
ipset add blockip 192.168.122.11
ipset create nets hash:net
ipset add nets 192.168.122.0/24
ipset add nets 192.168.122.12 nomatch
ipset add nets 192.168.123.0/25
ipset create svc hash:ip,port
ipset add svc 192.168.123.10,tcp:22
ipset add svc 192.168.122.10,udp:53
ipset add svc 192.168.122.10,icmp:echo-request
ipset create ports bitmap:port range 0-4096
ipset add ports 80
ipset add ports 2048
ipset create lst list:set
ipset add lst blockip
ipset add lst svc
ipset create ifs hash:net,iface
ipset add ifs 192.168.122.0/24,virbr0
ipset add ifs 192.168.122.10,virbr0 nomatch
ipset add ifs 192.168.123.0/24,physdev:vnet3
ipset create macs bitmap:ip,mac range 192.168.122.0/24
ipset add macs 192.168.122.10,52:54:00:00:00:0a
ipset add macs 192.168.122.11,52:54:00:00:00:ff
ipset create dyn hash:ip
ipset create gone hash:ip
ipset add gone 192.168.122.12
ipset create tuple hash:ip,port,ip
ipset add tuple 192.168.122.11,tcp:80,192.168.123.10
`;

const RULES = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -s 192.168.123.10/32 -p tcp -m tcp --dport 22 -j SET --add-set dyn src
-A INPUT -p tcp -m tcp --dport 22 -m set --match-set dyn src -j DROP
-A INPUT -s 192.168.122.12/32 -p tcp -m tcp --dport 22 -j SET --del-set gone src
-A INPUT -p tcp -m tcp --dport 22 -m set --match-set gone src -j DROP
-A INPUT -p tcp -m tcp --dport 22 -m set --match-set blockip src -j REJECT --reject-with tcp-reset
-A INPUT -p tcp -m tcp --dport 80 -m set --match-set nets src -j DROP
-A INPUT -p udp -m udp --dport 53 -m set ! --match-set svc src,dst -j REJECT --reject-with icmp-port-unreachable
-A INPUT -p icmp -m set --match-set svc src,src -j DROP
-A INPUT -p icmp -m set --match-set macs src,src -j REJECT --reject-with icmp-host-prohibited
-A FORWARD -p tcp -m set --match-set tuple src,dst,dst -j DROP
-A FORWARD -p tcp -m tcp --dport 22 -m set --match-set ifs src,src -j DROP
-A FORWARD -p tcp -m set --match-set ports dst -j REJECT --reject-with tcp-reset
-A FORWARD -p icmp -m set --match-set ports dst -j DROP
-A FORWARD -p tcp -m set --match-set lst src,dst -j DROP
-A FORWARD -m set --match-set svc src -j DROP
-A FORWARD -p udp -m set --match-set nets src --return-nomatch -j REJECT --reject-with icmp-port-unreachable
-A FORWARD -p icmp -m set --match-set nets dst -m set ! --match-set blockip dst -j REJECT --reject-with icmp-net-prohibited
COMMIT
`;

function savedSets(): { text: string | null; error: string | null } {
  const r = spawnSync('unshare', ['-n', 'sh', '-ec', `${MAKE_SETS}\nipset save`], { encoding: 'utf8' });
  if (r.status !== 0) return { text: null, error: r.stderr.trim() };
  return { text: r.stdout, error: null };
}

function scenario(): Scenario {
  const topology = twoBridgeTopology(
    [
      'vm1@virbr0=192.168.122.10,port=vnet0,mac=52:54:00:00:00:0a',
      'vm2@virbr0=192.168.122.11,port=vnet1,mac=52:54:00:00:00:0b',
      'vm3@virbr0=192.168.122.12,port=vnet2,mac=52:54:00:00:00:0c',
      'vm4@virbr1=192.168.123.10,port=vnet3,mac=52:54:00:00:00:0d',
    ],
    { outside: [] },
  );
  return { name: 'ipset membership', dump: RULES, topology, brNetfilter: false, probes: matrixProbes(topology) };
}

describeKernel(
  'ipset: -m set and -j SET decided by membership agree with the kernel',
  () => {
    if (kernelSkipReason() !== null) return;
    const saved = savedSets();
    if (!saved.text) {
      it('makes the sets with the real ipset', () => {
        throw new Error(`ipset failed in a namespace: ${saved.error}`);
      });
      return;
    }
    const ipsets = parseIpsetSave(saved.text, 'ipset save');
    const s = scenario();
    const sim = prepare(compileDump(parseSave(s.dump, { file: s.name }), 4, { env: evalEnv({ ipsets }) }), {
      ...s.topology,
      brNetfilter: 'off',
    });
    const probes = kernelProbes(sim, s);
    const run = runKernel(
      s.topology,
      s.dump,
      probes.map((p) => p.probe),
      { brNetfilter: false, ipsets: saved.text, extraPorts: { tcp: [80, 22], udp: [53] } },
    );
    const c = run.error
      ? { total: probes.length, agree: 0, unknown: 0, disagreements: [run.error] }
      : compare(sim, probes, run.observations);
    const decided = probes.filter((p) => p.result.request.verdict !== 'unknown');
    const bySet = new Set(
      probes.flatMap((p) =>
        [p.result.request, p.result.reply].flatMap((l) =>
          l?.decidedBy?.rule?.rule?.matches.some((m) => m.name === 'set') ? [l.decidedBy.rule.rule.line] : [],
        ),
      ),
    );
    it(`the save reads back: ${ipsets.sets.length} sets, ${ipsets.sets.reduce((n, x) => n + x.members.length, 0)} members`, () => {
      // ipset save prints list:set sets last, after the sets they hold.
      expect(ipsets.sets.map((x) => x.name)).toEqual([
        'blockip',
        'nets',
        'svc',
        'ports',
        'ifs',
        'macs',
        'dyn',
        'gone',
        'tuple',
        'lst',
      ]);
    });
    it(`${c.total} probes: simulator = kernel on ${c.agree} (${decided.length} decided, ${bySet.size} -m set rules decide some)`, () => {
      expect(c.disagreements).toEqual([]);
      expect(decided.length).toBe(probes.length);
      // Every rule decides some probe but three no packet can match: the member deleted first (line 8),
      // ICMP against bitmap:port (17: only TCP and UDP carry its ports), too few flags for hash:ip,port (19).
      expect([...bySet].sort((a, b) => a - b)).toEqual([6, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 21]);
    });
  },
  { tools: ['ipset'] },
);
