// Conditions the packet alone does not decide (recent, limit, unknown modules, MACs the topology
// does not give), followed both ways: one verdict when every way gives it, else "depends on rule
// N" with what each way gives; assumptions (--assume) decide them; the budget bounds the ways.
// test/kernel/recent-oracle.test.ts checks the same against real packets in both states.

import { describe, expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { compileDump } from '../../src/sim/compile.js';
import { evalEnv, NO_ASSUMPTIONS, parseAssumptions, type Assumptions } from '../../src/sim/env.js';
import { buildTopology, emptySpec } from '../../src/sim/topology.js';
import { parseBridgeFlag, parseGuestFlag, parseUplinkFlag } from '../../src/cli/topology-flags.js';
import { prepare, trace, traceWay, type Probe, type TraceResult } from '../../src/sim/trace.js';

function sim(input: string, assume: Assumptions = NO_ASSUMPTIONS, mac: string | null = null) {
  const topology = buildTopology({
    ...emptySpec(),
    uplink: parseUplinkFlag('eth0=10.3.3.50/24,gw=10.3.3.1'),
    bridges: [parseBridgeFlag('virbr2=192.168.124.1/24')],
    guests: [parseGuestFlag(`vm1@virbr2=192.168.124.10,port=vnet0${mac ? `,mac=${mac}` : ''}`)],
    brNetfilter: 'off',
  });
  const dump = `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${input}COMMIT\n`;
  return prepare(compileDump(parseSave(dump, { file: 'case.save' }), 4, { env: evalEnv({ assume }) }), topology);
}

const ssh: Probe = { from: 'vm1', to: 'host', proto: 'tcp', dport: 22 };
const run = (input: string, assume?: Assumptions, probe: Probe = ssh): TraceResult => trace(sim(input, assume), probe);

describe('undecided conditions explored both ways', () => {
  it('a recent check that decides: depends on its rule, both outcomes named', () => {
    const r = run('-A INPUT -p tcp -m tcp --dport 22 -m recent --rcheck --seconds 60 --name ssh --rsource -j DROP\n');
    expect(r.request.verdict).toBe('unknown');
    expect(r.request.reason).toMatch(
      /^the first packet depends on rule 5 \(filter INPUT: -m recent --rcheck --seconds 60 --name ssh --rsource: whether list ssh holds an entry/,
    );
    expect(r.request.reason).toMatch(/\): delivered if rule 5 does not; dropped by rule 5 if rule 5 matches$/);
    expect(r.branches?.decided).toBe(false);
    expect(r.branches?.paths.map((p) => [p.choices.map((c) => c.matched), p.request])).toEqual([
      [[false], 'delivered'],
      [[true], 'dropped'],
    ]);
  });

  it('the same verdict whichever way: decided, with a note', () => {
    const r = run('-A INPUT -p tcp -m recent --rcheck --name ssh -j DROP\n-A INPUT -p tcp -j DROP\n');
    expect(r.request.verdict).toBe('dropped');
    expect(r.branches?.decided).toBe(true);
    expect(r.request.notes.join(' ')).toMatch(/the same whichever way rule 5 goes \(2 ways followed/);
  });

  it('a REJECT of everything before the recent rule: rejected, the recent rule never asked', () => {
    const r = run(
      '-A INPUT -j REJECT --reject-with icmp-port-unreachable\n-A INPUT -m recent --rcheck --name x -j DROP\n',
    );
    expect(r.request.verdict).toBe('rejected');
    expect(r.branches).toBeUndefined();
  });

  it('hits the trace itself added decide a check (a lower bound on the list)', () => {
    const input =
      '-A INPUT -p tcp -m recent --set --name ssh\n-A INPUT -p tcp -m recent --rcheck --hitcount 1 --name ssh -j DROP\n';
    expect(run(input).request.verdict).toBe('dropped');
    const two =
      '-A INPUT -p tcp -m recent --set --name ssh\n-A INPUT -p tcp -m recent --rcheck --hitcount 2 --name ssh -j DROP\n';
    expect(run(two).request.verdict).toBe('unknown');
    // The lists empty before the trace: one hit, fewer than two.
    expect(run(two, parseAssumptions('trace', ['recent empty'])).request.verdict).toBe('delivered');
    // A removal makes the entry known: nothing left to check.
    const removed =
      '-A INPUT -p tcp -m recent --remove --name ssh\n-A INPUT -p tcp -m recent --rcheck --name ssh -j DROP\n';
    expect(run(removed).request.verdict).toBe('delivered');
  });

  it('rate limits: undecided unless assumed under or over', () => {
    const input = '-A INPUT -p tcp -m limit --limit 3/min -j ACCEPT\n-A INPUT -p tcp -j DROP\n';
    expect(run(input).request.verdict).toBe('unknown');
    expect(run(input, parseAssumptions('trace', ['limit under'])).request.verdict).toBe('delivered');
    expect(run(input, parseAssumptions('trace', ['limit over'])).request.verdict).toBe('dropped');
    const above = '-A INPUT -p tcp -m hashlimit --hashlimit-above 5/sec --hashlimit-name h -j DROP\n';
    expect(run(above, parseAssumptions('trace', ['limit under'])).request.verdict).toBe('delivered');
  });

  it('a rule that only logs is not followed (it changes no verdict)', () => {
    const r = run('-A INPUT -m limit --limit 1/min -j LOG\n');
    expect(r.request.verdict).toBe('delivered');
    expect(r.branches).toBeUndefined();
  });

  it('an unknown module and a MAC the topology does not give are followed too', () => {
    const u32 = run('-A INPUT -p tcp -m u32 --u32 "0>>22&0x3C@12>>26&0x3F=0x10" -j DROP\n');
    expect(u32.request.reason).toMatch(/depends on rule 5 \(filter INPUT: -m u32/);
    const input = '-A INPUT -m mac --mac-source 52:54:00:00:00:0a -j ACCEPT\n-A INPUT -j DROP\n';
    expect(trace(sim(input), ssh).request.reason).toMatch(/depends on rule 5 .*the topology gives no MAC address/);
    expect(trace(sim(input, NO_ASSUMPTIONS, '52:54:00:00:00:0a'), ssh).request.verdict).toBe('delivered');
    expect(trace(sim(input, NO_ASSUMPTIONS, '52:54:00:00:00:0b'), ssh).request.verdict).toBe('dropped');
  });

  it('each way can be traced on its own, with its events', () => {
    const s = sim('-A INPUT -p tcp -m recent --rcheck --name ssh -j REJECT --reject-with tcp-reset\n');
    expect(traceWay(s, ssh, [false]).request.verdict).toBe('delivered');
    const hit = traceWay(s, ssh, [true]);
    expect(hit.request.verdict).toBe('rejected');
    expect(hit.request.decidedBy?.rule?.rule?.line).toBe(5);
  });

  it('more ways than the budget: unknown, saying so', () => {
    const marks = Array.from(
      { length: 7 },
      (_, i) => `-A INPUT -m statistic --mode random --probability 0.5 -j MARK --set-xmark 0x${i + 1}/0xffffffff\n`,
    ).join('');
    const r = run(marks);
    expect(r.request.verdict).toBe('unknown');
    expect(r.request.reason).toMatch(/^more than 64 ways the undecided conditions of rule 5, rule 6, .* can go/);
    expect(r.branches?.exceeded).toBe(true);
    expect(trace(sim(marks), { ...ssh, branches: 256 }).request.verdict).toBe('delivered');
  });
});

describe('--assume', () => {
  it('reads the known assumptions, refuses others with a suggestion', () => {
    expect(parseAssumptions('trace', ['recent empty', 'limit under'])).toEqual({ recentEmpty: true, limit: 'under' });
    expect(parseAssumptions('trace', ['Recent  EMPTY,limit over'])).toEqual({ recentEmpty: true, limit: 'over' });
    expect(() => parseAssumptions('trace', ['recent full'])).toThrow(
      /'recent full' is not an assumption virtables knows \(did you mean 'recent empty'\?\)/,
    );
    expect(() => parseAssumptions('trace', ['limit under', 'limit over'])).toThrow(/contradict/);
  });
});
