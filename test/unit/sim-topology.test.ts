// The topology a trace runs on: from libvirt network XML, Xen set-ups, flags and topology
// files — and the errors bad ones get.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTopologyFile } from '../../grammar/topology.js';
import { formatHost } from '../../src/model/cidr.js';
import { InputError, UsageError } from '../../src/model/errors.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { readXenNetwork } from '../../src/network/xen.js';
import { applyStatements, buildTopology, emptySpec, type Endpoint, type Topology } from '../../src/sim/topology.js';
import { parseGuestFlag, parseUplinkFlag } from '../../src/cli/topology-flags.js';
import { REPO_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

const SEED = join(REPO_CORPUS, 'seed-lab');
const net = (f: string) => readNetworks(read(join(SEED, f)), f);
const addrs = (e: Endpoint | undefined): string[] =>
  (e?.addresses ?? []).map((a) => `${formatHost(a.address.family, a.address.value)}/${a.prefix}`);
const gws = (e: Endpoint | undefined): string[] => (e?.gateways ?? []).map((g) => formatHost(g.family, g.value));
const ep = (t: Topology, name: string): Endpoint | undefined => t.endpoints.find((e) => e.name === name);

describe('from libvirt networks', () => {
  const t = buildTopology({
    ...emptySpec(),
    networks: [...net('host-only.xml'), ...net('natted.xml'), ...net('not_even_host.xml')],
  });

  it('each network gives a bridge with its addresses', () => {
    expect(
      t.interfaces.map(
        (i) =>
          `${i.name}:${i.role}:${i.addresses.map((a) => `${formatHost(a.address.family, a.address.value)}/${a.prefix}`).join(',')}`,
      ),
    ).toEqual([
      'lo:loopback:127.0.0.1/8,::1/128',
      'eth0:uplink:10.0.2.15/24,2001:db8:2::15/64',
      'virbr1:bridge:192.168.123.1/24',
      'virbr2:bridge:192.168.124.1/24',
      'virbr3:bridge:',
    ]);
  });
  it('an auto-placed guest sits at the start of the DHCP range; isolated networks give it no gateway', () => {
    expect(addrs(ep(t, 'host-only-vm'))).toEqual(['192.168.123.2/24']);
    expect(gws(ep(t, 'host-only-vm'))).toEqual([]);
    expect(addrs(ep(t, 'natted-vm'))).toEqual(['192.168.124.2/24']);
    expect(gws(ep(t, 'natted-vm'))).toEqual(['192.168.124.1']);
    // not_even_host has no address to place a guest in.
    expect(ep(t, 'not_even_host-vm')).toBeUndefined();
  });
  it('outside is the uplink gateway and far hosts, routing the host-side subnets through the host', () => {
    const o = ep(t, 'outside')!;
    expect(addrs(o)).toEqual(['10.0.2.2/24', '2001:db8:2::2/64']);
    expect(o.extra.map((a) => formatHost(a.family, a.value))).toEqual(['203.0.113.10', '2001:db8:ffff::10']);
    expect(
      o.routes.map(
        (r) =>
          `${formatHost(r.dest.family, r.dest.network)}/${r.dest.prefix} via ${formatHost(r.via!.family, r.via!.value)}`,
      ),
    ).toEqual(['192.168.123.0/24 via 10.0.2.15', '192.168.124.0/24 via 10.0.2.15']);
  });
  it('a --guest replaces the auto guest of its network and takes the bridge address as gateway', () => {
    const t2 = buildTopology({
      ...emptySpec(),
      networks: net('natted.xml'),
      guests: [parseGuestFlag('vm1@natted=192.168.124.10')],
    });
    expect(t2.endpoints.map((e) => e.name)).toEqual(['vm1', 'outside']);
    expect(addrs(ep(t2, 'vm1'))).toEqual(['192.168.124.10/24']);
    expect(gws(ep(t2, 'vm1'))).toEqual(['192.168.124.1']);
    expect(ep(t2, 'vm1')?.iface).toBe('virbr2');
  });
});

describe('flags', () => {
  it('--uplink with two families, gateways and a bridge port', () => {
    const u = parseUplinkFlag('xenbr0=198.51.100.10/24,2001:db8::10/64,gw=198.51.100.1,gw=2001:db8::1,port=peth0');
    expect(u.name).toBe('xenbr0');
    expect(u.port).toBe('peth0');
    expect(u.addresses.length).toBe(2);
    expect(u.gateways.map((g) => formatHost(g.family, g.value))).toEqual(['198.51.100.1', '2001:db8::1']);
  });
  const bad: Array<[string, () => unknown, RegExp]> = [
    ['uplink without an address', () => parseUplinkFlag('eth0'), /expected NAME=ADDRESS\/LEN/],
    ['uplink address without prefix', () => parseUplinkFlag('eth0=10.0.0.1'), /needs a prefix/],
    [
      'uplink gateway off its subnet',
      () => parseUplinkFlag('eth0=10.0.0.1/24,gw=10.9.9.9'),
      /not on the uplink's subnet/,
    ],
    ['uplink unknown part', () => parseUplinkFlag('eth0=10.0.0.1/24,mtu=9000'), /unknown part 'mtu=9000'/],
    ['guest without bridge', () => parseGuestFlag('vm1=10.0.0.5'), /expected NAME@BRIDGE=ADDRESS/],
    ['guest bad address', () => parseGuestFlag('vm1@virbr0=10.0.0.500'), /bad address/],
    [
      'guest on an unknown bridge',
      () => buildTopology({ ...emptySpec(), guests: [parseGuestFlag('vm1@virbr9=10.0.0.5')] }),
      /no such bridge or network/,
    ],
  ];
  for (const [name, f, msg] of bad) {
    it(`refuses: ${name}`, () => {
      expect(f).toThrow(UsageError);
      expect(f).toThrow(msg);
    });
  }
});

describe('Xen set-ups', () => {
  it('network-bridge: vifs are ports of the bridge; vif-nat/route: each vif is a routed link', () => {
    const xen = (cfg: string, doms: string[]) =>
      readXenNetwork(
        { text: read(join(REPO_CORPUS, 'xen', cfg)), file: cfg },
        doms.map((d) => ({ text: read(join(REPO_CORPUS, 'xen', 'domains', d)), file: d })),
      );
    const bridged = buildTopology({ ...emptySpec(), networks: [xen('xend-config-bridge.sxp', ['web.cfg', 'db.cfg'])] });
    const guests = bridged.endpoints.filter((e) => e.kind === 'guest');
    expect(guests.map((g) => `${g.name}:${g.iface}:${g.port}`)).toEqual(['dom1:xenbr0:vif1.0', 'dom2:xenbr0:vif2.0']);
    const routed = buildTopology({ ...emptySpec(), networks: [xen('xend-config-route.sxp', ['routed.cfg'])] });
    const g = routed.endpoints.find((e) => e.kind === 'guest')!;
    expect(g.port).toBeNull();
    expect(routed.interfaces.find((i) => i.name === g.iface)?.role).toBe('link');
  });
});

describe('topology files', () => {
  it('the seed lab topology', () => {
    const file = join(REPO_CORPUS, 'topology', 'seed-lab.topo');
    const statements = parseTopologyFile(read(file), file);
    expect(statements.map((s) => s.kind)).toEqual([
      'uplink',
      'network',
      'network',
      'guest',
      'guest',
      'outside',
      'ip_forward',
    ]);
    const spec = applyStatements(emptySpec(), statements, file, (f) =>
      readNetworks(read(join(REPO_CORPUS, 'topology', f)), f),
    );
    const t = buildTopology(spec);
    expect(t.endpoints.map((e) => e.name)).toEqual(['vm1', 'vm2', 'outside']);
    expect(gws(ep(t, 'vm1'))).toEqual([]);
    expect(gws(ep(t, 'vm2'))).toEqual(['192.168.124.1']);
    expect(ep(t, 'outside')?.extra.map((a) => formatHost(a.family, a.value))).toEqual(['203.0.113.10']);
  });
  it('the XenServer topology: a bridge uplink with its physical port', () => {
    const file = join(REPO_CORPUS, 'topology', 'xenserver-portforward.topo');
    const t = buildTopology(applyStatements(emptySpec(), parseTopologyFile(read(file), file), file, () => []));
    expect(t.interfaces.find((i) => i.name === 'xenbr0')).toMatchObject({ role: 'uplink', bridge: true });
    expect(ep(t, 'outside')).toMatchObject({ iface: 'xenbr0', port: 'peth0' });
    expect(ep(t, 'web2')).toMatchObject({ iface: 'xapi1', port: 'vif2.0' });
  });
  const bad: Array<[string, string]> = [
    ['uplink eth0 10.0.0.1\n', "x.topo:1:13: '10.0.0.1' needs a prefix (ADDRESS/LEN)"],
    [
      'bridge virbr0 192.168.1.1/24\nguest vm1 virbr0 192.168.1.5\n',
      "x.topo:2:11: unexpected 'virbr0': expected a statement (uplink, bridge, network, guest, outside, route, ip_forward, br_netfilter) and its values",
    ],
    ['guest vm1 on virbr0 10.0.0.5 mac zz:00\n', "x.topo:1:34: bad MAC address 'zz:00'"],
    ['ip_forward maybe\n', "x.topo:1:12: ip_forward takes on or off, not 'maybe'"],
    ['outside 10.0.0.300\n', "x.topo:1:9: bad address '10.0.0.300'"],
    [
      'route 10.8.0.0/16 10.0.0.1\n',
      "x.topo:1:19: unexpected '10.0.0.1': expected a statement (uplink, bridge, network, guest, outside, route, ip_forward, br_netfilter) and its values",
    ],
  ];
  for (const [text, message] of bad) {
    it(`refuses ${JSON.stringify(text.trim())} at its position`, () => {
      try {
        parseTopologyFile(text, 'x.topo');
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        expect((e as Error).message).toBe(message);
      }
    });
  }
  it('an uplink whose gateway is off its subnet is an error at the statement', () => {
    const st = parseTopologyFile('# host\nuplink eth0 10.0.0.1/24 gateway 10.1.1.1\n', 'x.topo');
    expect(() => applyStatements(emptySpec(), st, 'x.topo', () => [])).toThrow(
      "x.topo:2:1: uplink: gateway 10.1.1.1 is not on the uplink's subnet",
    );
  });
});
