// The simulator, rule by rule: each case is a small dump (the rule lines under test) on the
// seed lab's host (uplink eth0 10.3.3.50/24, natted virbr2 with vm1 and vm2, isolated virbr1
// with vm3) and the packet traced through it. The kernel oracle (test/kernel) checks the same
// semantics against real netfilter; these pin each match, target and traversal rule down.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { formatHost } from '../../src/model/cidr.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { compileDump } from '../../src/sim/compile.js';
import { buildTopology, emptySpec, type BrNetfilter } from '../../src/sim/topology.js';
import { parseBridgeFlag, parseGuestFlag, parseUplinkFlag } from '../../src/cli/topology-flags.js';
import { prepare, trace, type Probe, type TraceResult } from '../../src/sim/trace.js';
import { deviceId, freshMemory, PacketCtx } from '../../src/sim/packet.js';
import { lazyRuleset } from '../../src/audit/probes.js';
import { describeCorpus, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

function sim(dump: string, opts: { brNetfilter?: BrNetfilter; ipForward?: boolean } = {}) {
  const topology = buildTopology({
    ...emptySpec(),
    uplink: parseUplinkFlag('eth0=10.3.3.50/24,gw=10.3.3.1'),
    bridges: [parseBridgeFlag('virbr2=192.168.124.1/24'), parseBridgeFlag('virbr1=192.168.123.1/24')],
    guests: [
      'vm1@virbr2=192.168.124.10,port=vnet0',
      'vm2@virbr2=192.168.124.11,port=vnet1',
      'vm3@virbr1=192.168.123.10,gw=none,port=vnet2',
    ].map(parseGuestFlag),
    brNetfilter: opts.brNetfilter ?? 'off',
    ipForward: opts.ipForward ?? true,
  });
  return prepare(compileDump(parseSave(dump, { file: 'case.save' })), topology);
}

const run = (dump: string, probe: Probe, opts?: Parameters<typeof sim>[1]): TraceResult =>
  trace(sim(dump, opts), probe);
const fmt = (a: bigint): string => formatHost(4, a);

const filter = (forward: string, policy = 'ACCEPT', input = ''): string =>
  `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ${policy} [0:0]\n:OUTPUT ACCEPT [0:0]\n${input}${forward}COMMIT\n`;

describe('matches, each evaluated exactly', () => {
  const out: Probe = { from: 'vm1', to: 'outside', proto: 'tcp', dport: 80 };
  const cases: Array<[string, string, Probe, string]> = [
    ['-i with a + wildcard', '-A FORWARD -i virbr+ -j DROP\n', out, 'dropped'],
    ['-i wildcard that does not fit', '-A FORWARD -i eth+ -j DROP\n', out, 'delivered'],
    ['! -o', '-A FORWARD ! -o eth0 -j DROP\n', out, 'delivered'],
    ['-s subnet', '-A FORWARD -s 192.168.124.0/24 -j DROP\n', out, 'dropped'],
    ['! -d subnet', '-A FORWARD ! -d 192.168.124.0/24 -j REJECT --reject-with icmp-host-prohibited\n', out, 'rejected'],
    // A mask with holes is ANDed with the address as it is (test/kernel/trace-oracle.test.ts: masks with holes).
    ['-s with a mask with holes', '-A FORWARD -s 192.168.0.10/255.255.0.255 -j DROP\n', out, 'dropped'],
    [
      '-s with a mask with holes that does not fit',
      '-A FORWARD -s 192.168.0.0/255.255.0.255 -j DROP\n',
      out,
      'delivered',
    ],
    ['! -s with a mask with holes', '-A FORWARD ! -s 192.168.0.10/255.255.0.255 -j DROP\n', out, 'delivered'],
    ['-p udp against tcp', '-A FORWARD -p udp -j DROP\n', out, 'delivered'],
    ['tcp --dport', '-A FORWARD -p tcp -m tcp --dport 80 -j DROP\n', out, 'dropped'],
    ['tcp --dport range', '-A FORWARD -p tcp -m tcp --dport 1:79 -j DROP\n', out, 'delivered'],
    ['tcp ! --dport', '-A FORWARD -p tcp -m tcp ! --dport 22 -j DROP\n', out, 'dropped'],
    ['tcp --sport', '-A FORWARD -p tcp -m tcp --sport 40000 -j DROP\n', out, 'dropped'],
    [
      '--syn (the first packet is a SYN)',
      '-A FORWARD -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j DROP\n',
      out,
      'dropped',
    ],
    ['multiport list with a range', '-A FORWARD -p tcp -m multiport --dports 22,70:90 -j DROP\n', out, 'dropped'],
    ['multiport ! --dports', '-A FORWARD -p tcp -m multiport ! --dports 22,443 -j DROP\n', out, 'dropped'],
    ['icmp type any', '-A FORWARD -p icmp -m icmp --icmp-type any -j DROP\n', { ...out, proto: 'icmp' }, 'dropped'],
    [
      'icmp type echo-request (8)',
      '-A FORWARD -p icmp -m icmp --icmp-type 8 -j DROP\n',
      { ...out, proto: 'icmp' },
      'dropped',
    ],
    [
      'icmp type echo-reply (0) on a request',
      '-A FORWARD -p icmp -m icmp --icmp-type 0 -j DROP\n',
      { ...out, proto: 'icmp' },
      'delivered',
    ],
    ['state NEW', '-A FORWARD -m state --state NEW -j DROP\n', out, 'dropped'],
    [
      'conntrack ESTABLISHED on a new connection',
      '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j DROP\n',
      out,
      'delivered',
    ],
    ['conntrack --ctorigdst', '-A FORWARD -m conntrack --ctorigdst 203.0.113.0/24 -j DROP\n', out, 'dropped'],
    ['iprange --src-range', '-A FORWARD -m iprange --src-range 192.168.124.5-192.168.124.20 -j DROP\n', out, 'dropped'],
    ['iprange ! --dst-range', '-A FORWARD -m iprange ! --dst-range 203.0.113.1-203.0.113.9 -j DROP\n', out, 'dropped'],
    ['comment', '-A FORWARD -m comment --comment "no web" -j DROP\n', out, 'dropped'],
    [
      'limit (under or over its rate depends on the traffic before: both ways differ)',
      '-A FORWARD -m limit --limit 1/min -j DROP\n',
      out,
      'unknown',
    ],
    [
      'addrtype --dst-type LOCAL on a forwarded packet',
      '-A FORWARD -m addrtype --dst-type LOCAL -j DROP\n',
      out,
      'delivered',
    ],
    ['addrtype --dst-type UNICAST', '-A FORWARD -m addrtype --dst-type UNICAST -j DROP\n', out, 'dropped'],
    ['pkttype unicast', '-A FORWARD -m pkttype --pkt-type unicast -j DROP\n', out, 'dropped'],
    ['policy --pol none (no IPsec)', '-A FORWARD -m policy --dir in --pol none -j DROP\n', out, 'dropped'],
    ['fragment -f (never a fragment)', '-A FORWARD -f -j DROP\n', out, 'delivered'],
    [
      'physdev-in without br_netfilter info on a routed packet',
      '-A FORWARD -m physdev --physdev-in vnet0 -j DROP\n',
      out,
      'delivered',
    ],
    ['! --physdev-in without bridge info', '-A FORWARD -m physdev ! --physdev-in vnet0 -j DROP\n', out, 'dropped'],
  ];
  for (const [name, rules, probe, verdict] of cases) {
    it(`${name}: ${verdict}`, () => {
      expect(run(filter(rules), probe).request.verdict).toBe(verdict);
    });
  }

  it('addrtype --dst-type LOCAL for a packet to the host', () => {
    const r = run(filter('', 'ACCEPT', '-A INPUT -p udp -m addrtype --dst-type LOCAL -j REJECT\n'), {
      from: 'vm1',
      to: 'host',
      proto: 'udp',
      dport: 53,
    });
    expect(r.request.verdict).toBe('rejected');
    expect(r.request.rejectWith).toBe('icmp-port-unreachable');
  });

  it('physdev with br_netfilter: bridge ports of a bridged packet', () => {
    const dump = filter('-A FORWARD -m physdev --physdev-in vnet0 --physdev-out vnet1 --physdev-is-bridged -j DROP\n');
    expect(run(dump, { from: 'vm1', to: 'vm2', proto: 'icmp' }, { brNetfilter: 'on' }).request.verdict).toBe('dropped');
    expect(run(dump, { from: 'vm2', to: 'vm1', proto: 'icmp' }, { brNetfilter: 'on' }).request.verdict).toBe(
      'delivered',
    );
    // Without br_netfilter iptables never sees bridged traffic.
    expect(run(dump, { from: 'vm1', to: 'vm2', proto: 'icmp' }, { brNetfilter: 'off' }).request.verdict).toBe(
      'delivered',
    );
  });

  it('physdev-in matches a routed packet that entered through a bridge port; physdev-out never does', () => {
    expect(
      run(filter('-A FORWARD -m physdev --physdev-in vnet0 -j DROP\n'), out, { brNetfilter: 'on' }).request.verdict,
    ).toBe('dropped');
    expect(
      run(filter('-A FORWARD -m physdev ! --physdev-out vnet9 -j DROP\n'), out, { brNetfilter: 'on' }).request.verdict,
    ).toBe('delivered');
  });

  it('br_netfilter auto: on when the dump uses physdev', () => {
    const dump = filter('-A FORWARD -m physdev --physdev-is-bridged -j DROP\n');
    expect(run(dump, { from: 'vm1', to: 'vm2', proto: 'icmp' }, { brNetfilter: 'auto' }).request.verdict).toBe(
      'dropped',
    );
  });

  it('mark set in mangle PREROUTING, matched in filter FORWARD', () => {
    const dump = `*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -i virbr2 -p tcp -j MARK --set-xmark 0x5/0xffffffff\nCOMMIT\n${filter('-A FORWARD -m mark --mark 0x5/0xf -j DROP\n')}`;
    expect(run(dump, out).request.verdict).toBe('dropped');
    expect(run(dump, { ...out, proto: 'udp' }).request.verdict).toBe('delivered');
  });
});

describe('unknown is said, never guessed', () => {
  const out: Probe = { from: 'vm1', to: 'outside', proto: 'tcp', dport: 80 };
  it('an unknown match on a rule that otherwise matches', () => {
    const r = run(filter('-A FORWARD -p tcp -m recent --rcheck --seconds 60 --name x --rsource -j DROP\n'), out);
    expect(r.request.verdict).toBe('unknown');
    expect(r.request.reason).toMatch(/^the first packet depends on rule 5 \(filter FORWARD: -m recent/);
  });
  it('an unknown match on a rule whose known matches fail decides nothing', () => {
    expect(run(filter('-A FORWARD -p udp -m recent --rcheck --name x --rsource -j DROP\n'), out).request.verdict).toBe(
      'delivered',
    );
  });
  it('an unknown target', () => {
    const r = run(filter('-A FORWARD -j NFQUEUE --queue-num 1\n'), out);
    expect(r.request.verdict).toBe('unknown');
    expect(r.request.reason).toContain('-j NFQUEUE');
  });
  it('conntrack --ctstatus depends on history', () => {
    expect(run(filter('-A FORWARD -m conntrack --ctstatus ASSURED -j DROP\n'), out).request.verdict).toBe('unknown');
  });
  it('mac --mac-source without the sender MAC in the topology', () => {
    expect(run(filter('-A FORWARD -m mac --mac-source 52:54:00:00:00:01 -j DROP\n'), out).request.verdict).toBe(
      'unknown',
    );
  });
});

describe('chains, jumps, policies', () => {
  const out: Probe = { from: 'vm1', to: 'outside', proto: 'tcp', dport: 80 };
  const chains = (body: string, policy = 'ACCEPT'): string =>
    `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ${policy} [0:0]\n:OUTPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n${body}COMMIT\n`;

  it('RETURN goes back to the caller, which continues', () => {
    expect(
      run(chains('-A FORWARD -j A\n-A FORWARD -j DROP\n-A A -j RETURN\n-A A -j ACCEPT\n'), out).request.verdict,
    ).toBe('dropped');
  });
  it('falling off a user chain returns to the caller', () => {
    expect(run(chains('-A FORWARD -j A\n-A FORWARD -j REJECT\n-A A -p udp -j ACCEPT\n'), out).request.verdict).toBe(
      'rejected',
    );
  });
  it('goto: the end of the target chain returns to the chain that jumped before it', () => {
    // FORWARD -j A; A -g B; B falls off → back to FORWARD (not A), whose next rule drops.
    const r = run(
      chains('-A FORWARD -j A\n-A FORWARD -j DROP\n-A A -g B\n-A A -j ACCEPT\n-A B -p udp -j ACCEPT\n'),
      out,
    );
    expect(r.request.verdict).toBe('dropped');
    expect(
      r.request.events.filter((e) => e.kind === 'rule').map((e) => e.kind === 'rule' && `${e.chain}:${e.action}`),
    ).toEqual(['FORWARD:jump', 'A:goto', 'B:end', 'FORWARD:drop']);
  });
  it('RETURN in a built-in chain applies its policy', () => {
    expect(run(chains('-A FORWARD -j RETURN\n-A FORWARD -j ACCEPT\n', 'DROP'), out).request.verdict).toBe('dropped');
  });
  it('the policy decides when no rule does', () => {
    const r = run(chains('-A FORWARD -p udp -j ACCEPT\n', 'DROP'), out);
    expect(r.request.verdict).toBe('dropped');
    expect(r.request.reason).toBe('dropped by the filter FORWARD policy');
  });
  it('non-terminating targets let the walk go on', () => {
    expect(run(chains('-A FORWARD -j LOG --log-prefix "fw "\n-A FORWARD -j DROP\n'), out).request.verdict).toBe(
      'dropped',
    );
  });
});

describe('conntrack and NAT', () => {
  const natted = `*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -s 192.168.124.0/24 ! -d 192.168.124.0/24 -p tcp -j MASQUERADE --to-ports 1024-65535\n-A POSTROUTING -s 192.168.124.0/24 ! -d 192.168.124.0/24 -j MASQUERADE\nCOMMIT\n`;
  const libvirtFilter = filter(
    '-A FORWARD -d 192.168.124.0/24 -o virbr2 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A FORWARD -s 192.168.124.0/24 -i virbr2 -j ACCEPT\n-A FORWARD -o virbr2 -j REJECT --reject-with icmp-port-unreachable\n-A FORWARD -i virbr2 -j REJECT --reject-with icmp-port-unreachable\n',
  );

  it('MASQUERADE rewrites the source to the uplink address; the reply comes back ESTABLISHED and de-NATed', () => {
    const r = run(natted + libvirtFilter, { from: 'vm1', to: 'outside', proto: 'tcp', dport: 443 });
    expect(r.request.verdict).toBe('delivered');
    expect(fmt(r.request.seen!.src)).toBe('10.3.3.50');
    expect(r.request.seen!.sport).toBe(40000);
    expect(r.reply?.verdict).toBe('delivered');
    expect(fmt(r.reply!.seen!.dst)).toBe('192.168.124.10');
    expect(fmt(r.reply!.seen!.src)).toBe('203.0.113.10');
  });
  it('a source port outside --to-ports is remapped into the range (with a note)', () => {
    const r = run(natted + libvirtFilter, { from: 'vm1', to: 'outside', proto: 'tcp', dport: 443, sport: 68 });
    expect(r.request.seen!.sport).toBe(1024);
    expect(r.request.notes.join(' ')).toMatch(/remapped into 1024-65535/);
  });
  it('outside cannot open connections to a natted guest', () => {
    const r = run(natted + libvirtFilter, { from: 'outside', to: 'vm1', proto: 'tcp', dport: 22 });
    expect(r.request.verdict).toBe('rejected');
    expect(r.request.decidedBy?.rule?.rule?.text).toBe(
      '-A FORWARD -o virbr2 -j REJECT --reject-with icmp-port-unreachable',
    );
    expect(r.request.decidedBy?.rule?.rule?.line).toBe(15);
  });
  it('DNAT port forward: the first packet is rewritten, the reply comes back from the original address', () => {
    const dump = `*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -d 10.3.3.50/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.124.10:80\nCOMMIT\n${filter('-A FORWARD -d 192.168.124.10/32 -p tcp -m tcp --dport 80 -j ACCEPT\n-A FORWARD -m state --state ESTABLISHED -j ACCEPT\n', 'DROP')}`;
    const r = run(dump, { from: 'outside', to: '10.3.3.50', proto: 'tcp', dport: 8080 });
    expect(r.request.at).toBe('vm1');
    expect(r.request.seen!.dport).toBe(80);
    expect(r.reply?.verdict).toBe('delivered');
    expect(fmt(r.reply!.seen!.src)).toBe('10.3.3.50');
    expect(r.reply!.seen!.sport).toBe(8080);
  });
  it('the nat table only sees NEW connections', () => {
    const dump = `*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.124.10:80\nCOMMIT\n`;
    expect(
      run(dump, { from: 'outside', to: '10.3.3.50', proto: 'tcp', dport: 8080, state: 'ESTABLISHED' }).request.at,
    ).toBe('host');
  });
  it('REDIRECT sends the packet to the host itself', () => {
    const dump = `*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -i virbr2 -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 3128\nCOMMIT\n`;
    const r = run(dump, { from: 'vm1', to: 'outside', proto: 'tcp', dport: 80 });
    expect(r.request.at).toBe('host');
    expect(fmt(r.request.seen!.dst)).toBe('192.168.124.1');
    expect(r.request.seen!.dport).toBe(3128);
    expect(fmt(r.reply!.seen!.src)).toBe('203.0.113.10');
  });
  it('nat OUTPUT DNAT reroutes a packet the host sends', () => {
    const dump = `*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.124.10:80\nCOMMIT\n`;
    const r = run(dump, { from: 'host', to: 'outside', proto: 'tcp', dport: 8080 });
    expect(r.request.at).toBe('vm1');
    expect(fmt(r.request.seen!.src)).toBe('10.3.3.50');
  });
  it('in the raw table conntrack has not run yet: the state match sees INVALID', () => {
    const dump = `*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -m state --state INVALID -j DROP\nCOMMIT\n`;
    expect(run(dump, { from: 'vm1', to: 'host', proto: 'udp', dport: 53 }).request.verdict).toBe('dropped');
  });
  it('NOTRACK: the packet is UNTRACKED and the nat table skips it', () => {
    const dump = `*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p udp -j CT --notrack\nCOMMIT\n${natted}${filter('-A FORWARD -m state --state UNTRACKED -j DROP\n')}`;
    expect(run(dump, { from: 'vm1', to: 'outside', proto: 'udp', dport: 53 }).request.verdict).toBe('dropped');
  });
});

describe('routing and the host', () => {
  it('ip_forward off: forwarded packets are dropped, the host still answers', () => {
    expect(run('', { from: 'vm1', to: 'outside', proto: 'tcp', dport: 80 }, { ipForward: false }).request.reason).toBe(
      'the host does not forward (ip_forward is off)',
    );
    expect(run('', { from: 'vm1', to: 'host', proto: 'tcp', dport: 22 }, { ipForward: false }).request.verdict).toBe(
      'delivered',
    );
  });
  it('a guest without a gateway cannot leave its subnet', () => {
    const r = run('', { from: 'vm3', to: 'outside', proto: 'icmp' });
    expect(r.request.verdict).toBe('unreachable');
    expect(r.request.signal).toBe('local-error');
  });
  it('the host picks its source address by route', () => {
    const r = run('', { from: 'host', to: 'vm1', proto: 'icmp' });
    expect(fmt(r.packet.src)).toBe('192.168.124.1');
  });
  it('INPUT sees the bridge as the input interface; a REJECT there answers the guest', () => {
    const r = run(
      filter('', 'ACCEPT', '-A INPUT -i virbr2 -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset\n'),
      { from: 'vm1', to: 'host', proto: 'tcp', dport: 22 },
    );
    expect(r.request.rejectWith).toBe('tcp-reset');
  });
  it('the reply leg is traced: an OUTPUT drop of the host answer makes the connection one-way', () => {
    const r = run(
      '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -o virbr2 -p tcp -m tcp --sport 22 -j DROP\nCOMMIT\n',
      { from: 'vm1', to: 'host', proto: 'tcp', dport: 22 },
    );
    expect(r.request.verdict).toBe('delivered');
    expect(r.reply?.verdict).toBe('dropped');
  });
});

describeCorpus('a real Docker host (real-world corpus)', () => {
  const file = join(SHARED_CORPUS, 'real-world', 'configs_corny_docker__iptables-save.topos4.1');
  const docker = () => {
    const topology = buildTopology({
      ...emptySpec(),
      uplink: parseUplinkFlag('eth0=192.0.2.10/24,gw=192.0.2.1'),
      bridges: [parseBridgeFlag('br-b74b417b331f=10.0.0.254/8'), parseBridgeFlag('docker0=172.17.0.1/16')],
      guests: ['web@br-b74b417b331f=10.0.0.1', 'db@br-b74b417b331f=10.0.0.3', 'old@docker0=172.17.0.2'].map(
        parseGuestFlag,
      ),
    });
    return prepare(compileDump(parseSave(read(file), { file })), topology);
  };
  it('a container reaches the web, masqueraded; the stateless return rule lets the reply in', () => {
    const r = trace(docker(), { from: 'web', to: 'outside', proto: 'tcp', dport: 80 });
    expect(r.request.verdict).toBe('delivered');
    expect(fmt(r.request.seen!.src)).toBe('192.0.2.10');
    expect(r.reply?.verdict).toBe('delivered');
    expect(r.request.notes).toEqual([]);
  });
  it('a container without its own FORWARD accept is dropped by the policy', () => {
    const r = trace(docker(), { from: 'db', to: 'outside', proto: 'tcp', dport: 80 });
    expect(r.request.reason).toBe('dropped by the filter FORWARD policy');
  });
  it('the rate-limited destination depends on -m recent history: unknown, with the rule', () => {
    const r = trace(docker(), { from: 'web', to: '193.99.144.80', proto: 'tcp', dport: 80 });
    expect(r.request.verdict).toBe('unknown');
    // The counting rule before it (-m recent --set, no target) adds this packet's hit: one of the three.
    expect(r.branches?.rules.map((x) => x.rule.rule?.text)).toEqual([
      expect.stringContaining('--update --seconds 60 --hitcount 3'),
    ]);
    expect(r.branches?.paths.map((p) => p.request)).toEqual(['delivered', 'dropped']);
  });
  it('addrtype LOCAL sends packets for the host through the DOCKER chain, which returns', () => {
    const r = trace(docker(), { from: 'outside', to: 'host', proto: 'tcp', dport: 22 });
    expect(r.request.verdict).toBe('delivered');
    expect(r.request.events.some((e) => e.kind === 'rule' && e.chain === 'DOCKER')).toBe(true);
  });
});

describeCorpus('IPv6: ip6tables dumps of libvirt networks', () => {
  const F = join(SHARED_CORPUS, 'libvirt', 'firewall');
  const v6 = (dump: string, xml: string) => {
    const topology = buildTopology({ ...emptySpec(), networks: readNetworks(read(join(F, xml)), xml) });
    return prepare(compileDump(parseSave(read(join(F, 'derived', dump)), { file: dump })), topology);
  };
  it('a NAT network without <nat ipv6="yes"> routes IPv6: outside may open connections to the guest', () => {
    const s = v6('nat-ipv6-linux.ip6tables-save', 'nat-ipv6.xml');
    const r = trace(s, { from: 'outside', to: 'default-vm', proto: 'tcp', dport: 22 });
    expect(r.family).toBe(6);
    expect(formatHost(6, r.packet.dst)).toBe('2001:db8:ca2:2:1::10');
    expect(r.request.verdict).toBe('delivered');
    expect(formatHost(6, r.request.seen!.src)).toBe('2001:db8:ffff::10');
    expect(r.reply?.verdict).toBe('delivered');
  });
  it('with <nat ipv6="yes"> the guest is masqueraded and unreachable from outside', () => {
    const s = v6('nat-ipv6-masquerade-linux.ip6tables-save', 'nat-ipv6-masquerade.xml');
    const out = trace(s, { from: 'default-vm', to: 'outside', proto: 'tcp', dport: 443 });
    expect(formatHost(6, out.request.seen!.src)).toBe('2001:db8:2::15');
    expect(out.reply?.verdict).toBe('delivered');
    const inbound = trace(s, { from: 'outside', to: 'default-vm', proto: 'icmp' });
    expect(inbound.request.verdict).toBe('rejected');
    expect(inbound.request.rejectWith).toBe('icmp6-port-unreachable');
  });
});

describe('devices are compared by number (deviceId)', () => {
  // A chain of the audit's lazy ruleset is compiled when a packet first reaches it, after the packet's devices were
  // set: a name the packet numbered first must get the same number from the rule. `vlazy9` is named nowhere else.
  const dump = filter('-A FORWARD -j GUESTS\n', 'ACCEPT', '').replace(
    ':OUTPUT ACCEPT [0:0]\n',
    ':OUTPUT ACCEPT [0:0]\n:GUESTS - [0:0]\n-A GUESTS -o vlazy9 -p tcp -m tcp --dport 80 -j DROP\n',
  );
  const topology = buildTopology({
    ...emptySpec(),
    uplink: parseUplinkFlag('eth0=10.3.3.50/24,gw=10.3.3.1'),
    bridges: [parseBridgeFlag('vlazy9=10.9.9.1/24'), parseBridgeFlag('vlazy90=10.9.10.1/24')],
    guests: ['g9@vlazy9=10.9.9.10', 'g90@vlazy90=10.9.10.10'].map(parseGuestFlag),
  });
  const lazy = () => prepare(lazyRuleset(parseSave(dump, { file: 'case.save' })), topology);

  it('a device a packet named before the rule naming it was compiled still matches it', () => {
    const s = lazy();
    expect(trace(s, { from: 'outside', to: 'g9', proto: 'tcp', dport: 80 }).request.verdict).toBe('dropped');
    expect(trace(s, { from: 'outside', to: 'g9', proto: 'tcp', dport: 81 }).request.verdict).toBe('delivered');
  });
  it('another device (a longer name with the same start) does not', () => {
    const s = lazy();
    expect(trace(s, { from: 'outside', to: 'g90', proto: 'tcp', dport: 80 }).request.verdict).toBe('delivered');
  });
  it('a packet context keeps its devices’ numbers as its devices change', () => {
    const c = new PacketCtx(4, () => 'UNICAST', freshMemory());
    expect(c.inId).toBe(deviceId(''));
    c.inIface = 'vlazy9';
    c.outIface = 'vlazy90';
    expect([c.inId, c.outId]).toEqual([deviceId('vlazy9'), deviceId('vlazy90')]);
    expect(c.inId).not.toBe(c.outId);
    c.inIface = '';
    expect(c.inId).toBe(deviceId(''));
  });
});
