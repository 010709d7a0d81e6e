// One netfilter engine: what runs at each hook, in which order. iptables' tables are base
// chains at their fixed priorities; chains of several registrars at one priority run
// latest-registered first, and where no input says which registered last, the verdict names
// what it depends on instead of guessing. The kernel oracle (test/kernel) checks the same
// orders with real packets; these pin the plan and the tie rules down.

import { describe, expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { compileDump } from '../../src/sim/compile.js';
import { iptablesBaseChains, planHooks } from '../../src/sim/hooks.js';
import type { HookStage, Registrar, Ruleset } from '../../src/sim/ruleset.js';
import { buildTopology, emptySpec } from '../../src/sim/topology.js';
import { parseBridgeFlag, parseGuestFlag, parseUplinkFlag } from '../../src/cli/topology-flags.js';
import { prepare, trace, type TraceResult } from '../../src/sim/trace.js';
import { baseName } from '../../src/sim/traverse.js';

/** Every table with every built-in chain holding one ACCEPT rule (so none is left out as deciding nothing). */
function table(name: string, chains: readonly string[]): string {
  const heads = chains.map((c) => `:${c} ACCEPT [0:0]\n`).join('');
  return `*${name}\n${heads}${chains.map((c) => `-A ${c} -j ACCEPT\n`).join('')}COMMIT\n`;
}
const ALL = [
  table('raw', ['PREROUTING', 'OUTPUT']),
  table('mangle', ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']),
  table('nat', ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']),
  table('filter', ['INPUT', 'FORWARD', 'OUTPUT']),
  table('security', ['INPUT', 'FORWARD', 'OUTPUT']),
].join('');

function names(stages: readonly HookStage[]): string[] {
  return stages.map((s) => {
    if (s.kind === 'chain') return `${s.base.chain.table}@${s.priority}`;
    return s.kind === 'nat' ? `nat-core@${s.priority}[${s.chains.map(baseName).join(',')}]` : `conntrack@${s.priority}`;
  });
}

describe('an iptables dump: its tables at their fixed priorities', () => {
  const plan = compileDump(parseSave(ALL, { file: 'all.save' })).hooks;
  it('runs raw, conntrack, mangle, nat, filter, security in the kernel order', () => {
    const pre = ['raw@-300', 'conntrack@-200', 'mangle@-150', 'nat-core@-100[nat PREROUTING]'];
    expect(names(plan.PREROUTING)).toEqual(pre);
    expect(names(plan.INPUT)).toEqual(['mangle@-150', 'filter@0', 'security@50', 'nat-core@100[nat INPUT]']);
    expect(names(plan.FORWARD)).toEqual(['mangle@-150', 'filter@0', 'security@50']);
    expect(names(plan.OUTPUT)).toEqual([
      'raw@-300',
      'conntrack@-200',
      'mangle@-150',
      'nat-core@-100[nat OUTPUT]',
      'filter@0',
      'security@50',
    ]);
    expect(names(plan.POSTROUTING)).toEqual(['mangle@-150', 'nat-core@100[nat POSTROUTING]']);
  });
  it('has no tie anywhere (every table has its own priority)', () => {
    const tied = Object.values(plan)
      .flat()
      .filter((s) => s.tie !== null || (s.kind === 'nat' && s.chainTie !== null));
    expect(tied).toEqual([]);
  });
  it('keeps the NAT core when no nat chain decides anything (bindings apply), drops chains deciding nothing', () => {
    const text = forward('-j ACCEPT').replace('-A FORWARD -j ACCEPT\n', '');
    const empty = compileDump(parseSave(text, { file: 'e.save' })).hooks;
    expect(names(empty.FORWARD)).toEqual([]);
    expect(names(empty.POSTROUTING)).toEqual(['nat-core@100[]']);
  });
});

function forward(rule: string): string {
  return `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD ${rule}\nCOMMIT\n`;
}
function postrouting(rule: string): string {
  const heads = ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'].map((c) => `:${c} ACCEPT [0:0]\n`).join('');
  return `*nat\n${heads}-A POSTROUTING ${rule}\nCOMMIT\n`;
}

// Two rule sources on one host, each registered by its own mechanism.
function host(parts: ReadonlyArray<{ readonly text: string; readonly registrar: Registrar }>): Ruleset {
  const compiled = parts.map((p, i) => ({ p, rs: compileDump(parseSave(p.text, { file: `part${i}.save` })) }));
  const bases = compiled.flatMap(({ p, rs }, i) => {
    return iptablesBaseChains(rs.dump, (k) => rs.chains.get(k), p.registrar, 'ip', 9 * i);
  });
  return { ...compiled[0]!.rs, hooks: planHooks(bases) };
}

function probe(rs: Ruleset, from = 'vm1', to = 'outside'): TraceResult {
  const topology = buildTopology({
    ...emptySpec(),
    uplink: parseUplinkFlag('eth0=10.3.3.50/24,gw=10.3.3.1'),
    bridges: [parseBridgeFlag('virbr2=192.168.124.1/24')],
    guests: [parseGuestFlag('vm1@virbr2=192.168.124.10')],
  });
  return trace(prepare(rs, topology), { from, to, proto: 'tcp', dport: 80 });
}

describe('equal priority, several registrars', () => {
  it('legacy iptables next to nft, and the order decides: unknown, naming both chains and both outcomes', () => {
    const r = probe(
      host([
        { text: forward('-j REJECT --reject-with icmp-host-prohibited'), registrar: 'iptables-legacy' },
        { text: forward('-j REJECT'), registrar: 'nftables' },
      ]),
    );
    expect(r.request.verdict).toBe('unknown');
    expect(r.request.reason).toContain('depends on the order the kernel runs');
    expect(r.request.reason).toContain('iptables-legacy filter FORWARD');
    expect(r.request.reason).toContain('ip filter FORWARD');
    expect(r.request.reason).toContain('with icmp-host-prohibited');
    expect(r.request.reason).toContain('with icmp-port-unreachable');
  });
  it('legacy iptables next to nft, and every order agrees: the verdict, no unknown', () => {
    const r = probe(
      host([
        { text: forward('-j DROP'), registrar: 'iptables-legacy' },
        { text: forward('-j ACCEPT'), registrar: 'nftables' },
      ]),
    );
    // accept ends only its own chain; a drop anywhere is final.
    expect(r.request.verdict).toBe('dropped');
    expect(r.request.decidedBy?.chain).toBe('FORWARD');
  });
  it('nft tables at one priority: the later-listed runs first; a note says what the other order does', () => {
    const r = probe(
      host([
        { text: forward('-j REJECT --reject-with icmp-host-prohibited'), registrar: 'nftables' },
        { text: forward('-j REJECT'), registrar: 'nftables' },
      ]),
    );
    expect(r.request.verdict).toBe('rejected');
    expect(r.request.rejectWith).toBe('icmp-port-unreachable');
    const notes = r.request.notes.join('\n');
    expect(notes).toMatch(/the later-created table runs first.*the other way round: .*icmp-host-prohibited/);
  });
  it('the first NAT binding wins: of two nft nat chains at srcnat, the later-registered one translates', () => {
    const r = probe(
      host([
        { text: postrouting('-s 192.168.124.0/24 -o eth0 -j SNAT --to-source 10.3.3.99'), registrar: 'nftables' },
        { text: postrouting('-s 192.168.124.0/24 -o eth0 -j MASQUERADE'), registrar: 'nftables' },
      ]),
    );
    expect(r.request.verdict).toBe('delivered');
    expect(r.request.seen?.src).toBe(0x0a030332n); // 10.3.3.50: the masquerade ran first
    const b = probe(
      host([
        { text: postrouting('-s 192.168.124.0/24 -o eth0 -j MASQUERADE'), registrar: 'nftables' },
        { text: postrouting('-s 192.168.124.0/24 -o eth0 -j SNAT --to-source 10.3.3.99'), registrar: 'nftables' },
      ]),
    );
    expect(b.request.seen?.src).toBe(0x0a030363n); // 10.3.3.99
  });
  it('NAT by legacy iptables and by nft on one hook: which source the outside sees is unknown, and says why', () => {
    const r = probe(
      host([
        {
          text: postrouting('-s 192.168.124.0/24 -o eth0 -j SNAT --to-source 10.3.3.99'),
          registrar: 'iptables-legacy',
        },
        { text: postrouting('-s 192.168.124.0/24 -o eth0 -j MASQUERADE'), registrar: 'nftables' },
      ]),
    );
    expect(r.request.verdict).toBe('unknown');
    expect(r.request.reason).toContain('passes as 10.3.3.99:40000');
    expect(r.request.reason).toContain('passes as 10.3.3.50:40000');
  });
  it('a chain that only accepts or does nothing leaves the other registrar deciding alone', () => {
    const r = probe(
      host([
        {
          text: postrouting('-s 192.168.124.0/24 -o eth0 -j SNAT --to-source 10.3.3.99'),
          registrar: 'iptables-legacy',
        },
        { text: postrouting('-s 10.99.0.0/16 -j MASQUERADE'), registrar: 'nftables' },
      ]),
    );
    expect(r.request.verdict).toBe('delivered');
    expect(r.request.seen?.src).toBe(0x0a030363n);
  });
});
