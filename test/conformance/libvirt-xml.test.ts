// libvirt's own network XML test inputs (../shared/corpus/libvirt/xml, from
// tests/networkxml2xmltest.c): every file reads into the Network libvirt makes of it, or
// fails with the error libvirt gives. libvirt's re-formatted output (expected-out/) must read
// into the same model as its input: that is where the defaults libvirt fills in show.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { formatHost } from '../../src/model/cidr.js';
import { InputError } from '../../src/model/errors.js';
import type { Network } from '../../src/model/network.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { describeCorpus, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

const XML_DIR = join(SHARED_CORPUS, 'libvirt', 'xml');

interface Summary {
  mode: string;
  dev: string | null;
  bridge: string | null;
  /** host address / prefix of every <ip>, in order */
  ips: string[];
  dhcp: string[];
  dns: boolean;
}

function summary(n: Network): Summary {
  const host = (a: { family: 4 | 6; value: bigint }) => formatHost(a.family, a.value);
  return {
    mode: n.forward.mode,
    dev: n.forward.dev,
    bridge: n.bridge?.name ?? null,
    ips: n.ips.map((ip) => `${host(ip.address)}/${ip.subnet.prefix}`),
    dhcp: n.ips.flatMap((ip) => ip.dhcpRanges.map((r) => `${host(r.start)}-${host(r.end)}`)),
    dns: n.dns.enable,
  };
}

function readFile(dir: string, name: string): Network[] {
  return readNetworks(read(join(dir, name)), name);
}

/** The model without source positions, to compare two spellings of one network. */
function withoutOrigins(n: Network): unknown {
  return { ...n, origin: null, ips: n.ips.map((ip) => ({ ...ip, origin: null })) };
}

const NAT5 = [
  '192.168.122.1/24',
  '192.168.123.1/24',
  '2001:db8:ac10:fe01::1/64',
  '2001:db8:ac10:fd01::1/64',
  '10.24.10.1/8',
];
const DHCP122 = ['192.168.122.2-192.168.122.254'];
const none = { dev: null, bridge: null, ips: [], dhcp: [], dns: true };

// file → what libvirt makes of it, or the error it gives (the README's four rejects).
const EXPECTED: Array<[string, Summary | string]> = [
  ['8021Qbh-net.xml', { ...none, mode: 'private', dev: 'eth1' }],
  [
    'bandwidth-network.xml',
    {
      mode: 'nat',
      dev: null,
      bridge: 'virbr1',
      ips: ['192.168.120.1/24'],
      dhcp: ['192.168.120.2-192.168.120.254'],
      dns: true,
    },
  ],
  [
    'dhcp6host-routed-network.xml',
    {
      mode: 'route',
      dev: 'eth1',
      bridge: 'virbr1',
      ips: ['192.168.122.1/24', '2001:db8:ac10:fd01::1/64'],
      dhcp: [],
      dns: true,
    },
  ],
  ['direct-net.xml', { ...none, mode: 'bridge', dev: 'eth10' }],
  [
    'dnsmasq-options.xml',
    { mode: 'nat', dev: 'eth1', bridge: 'virbr0', ips: ['192.168.122.1/24'], dhcp: DHCP122, dns: true },
  ],
  ['empty-allow-ipv6.xml', { ...none, mode: 'none', bridge: 'virbr7' }],
  ['host-bridge-net.xml', { ...none, mode: 'bridge', bridge: 'br0' }],
  ['host-bridge-no-flood.xml', { ...none, mode: 'bridge', bridge: 'br0' }],
  [
    'hostdev-duplicate.xml',
    "hostdev-duplicate.xml:8:5: PCI device '0000:03:00.3' can only be listed once in network hostdev",
  ],
  ['hostdev-pf-driver-model.xml', { ...none, mode: 'hostdev' }],
  ['hostdev-pf.xml', { ...none, mode: 'hostdev' }],
  ['hostdev.xml', { ...none, mode: 'hostdev' }],
  [
    'isolated-network.xml',
    {
      mode: 'none',
      dev: null,
      bridge: 'virbr2',
      ips: ['192.168.152.1/24'],
      dhcp: ['192.168.152.2-192.168.152.254'],
      dns: true,
    },
  ],
  ['isolated-ports.xml', { ...none, mode: 'bridge', bridge: 'br0' }],
  [
    'leasetime-hours.xml',
    { mode: 'nat', dev: 'eth1', bridge: 'virbr0', ips: ['192.168.122.1/24'], dhcp: DHCP122, dns: true },
  ],
  [
    'leasetime-infinite.xml',
    { mode: 'nat', dev: 'eth1', bridge: 'virbr0', ips: ['192.168.122.1/24'], dhcp: DHCP122, dns: true },
  ],
  [
    'leasetime-minutes.xml',
    { mode: 'nat', dev: 'eth1', bridge: 'virbr0', ips: ['192.168.122.1/24'], dhcp: DHCP122, dns: true },
  ],
  [
    'leasetime-seconds.xml',
    { mode: 'nat', dev: 'eth1', bridge: 'virbr0', ips: ['192.168.122.1/24'], dhcp: DHCP122, dns: true },
  ],
  ['metadata.xml', { ...none, mode: 'bridge', bridge: 'br0' }],
  [
    'nat-network-dns-forward-plain.xml',
    { mode: 'nat', dev: 'eth0', bridge: 'virbr0', ips: ['192.168.122.1/24'], dhcp: [], dns: true },
  ],
  [
    'nat-network-dns-forwarder-no-resolv.xml',
    { mode: 'nat', dev: null, bridge: 'virbr0', ips: ['192.168.122.1/24'], dhcp: [], dns: true },
  ],
  [
    'nat-network-dns-forwarders.xml',
    { mode: 'nat', dev: 'eth0', bridge: 'virbr0', ips: ['192.168.122.1/24'], dhcp: [], dns: true },
  ],
  [
    'nat-network-dns-hosts.xml',
    { mode: 'nat', dev: 'eth0', bridge: 'virbr0', ips: ['192.168.122.1/24'], dhcp: [], dns: true },
  ],
  [
    'nat-network-dns-srv-record-minimal.xml',
    { mode: 'nat', dev: 'eth1', bridge: 'virbr0', ips: NAT5, dhcp: DHCP122, dns: true },
  ],
  [
    'nat-network-dns-srv-record.xml',
    { mode: 'nat', dev: 'eth1', bridge: 'virbr0', ips: NAT5, dhcp: DHCP122, dns: true },
  ],
  [
    'nat-network-dns-srv-records.xml',
    { mode: 'nat', dev: 'eth1', bridge: 'virbr0', ips: NAT5, dhcp: DHCP122, dns: true },
  ],
  [
    'nat-network-dns-txt-record.xml',
    { mode: 'nat', dev: 'eth1', bridge: 'virbr0', ips: NAT5, dhcp: DHCP122, dns: true },
  ],
  [
    'nat-network-explicit-flood.xml',
    { mode: 'nat', dev: 'eth1', bridge: 'virbr0', ips: NAT5, dhcp: DHCP122, dns: true },
  ],
  [
    'nat-network-forward-nat-address.xml',
    { mode: 'nat', dev: 'eth1', bridge: 'virbr0', ips: NAT5, dhcp: DHCP122, dns: true },
  ],
  [
    'nat-network-forward-nat-ipv6.xml',
    { mode: 'nat', dev: null, bridge: 'virbr0', ips: ['2001:db8:ac10:fe01::1/64'], dhcp: [], dns: true },
  ],
  [
    'nat-network-forward-nat-no-address.xml',
    { mode: 'nat', dev: 'eth1', bridge: 'virbr0', ips: NAT5, dhcp: DHCP122, dns: true },
  ],
  ['nat-network-mtu.xml', { mode: 'nat', dev: 'eth1', bridge: 'virbr0', ips: NAT5, dhcp: DHCP122, dns: true }],
  ['nat-network.xml', { mode: 'nat', dev: 'eth1', bridge: 'virbr0', ips: NAT5, dhcp: DHCP122, dns: true }],
  [
    'netboot-network.xml',
    { mode: 'nat', dev: null, bridge: 'virbr1', ips: ['192.168.122.1/24'], dhcp: DHCP122, dns: true },
  ],
  [
    'netboot-proxy-network.xml',
    { mode: 'nat', dev: null, bridge: 'virbr1', ips: ['192.168.122.1/24'], dhcp: DHCP122, dns: true },
  ],
  ['netboot-tftp.xml', { mode: 'nat', dev: null, bridge: 'virbr0', ips: ['192.168.122.1/24'], dhcp: [], dns: true }],
  [
    'open-network-with-forward-dev.xml',
    "open-network-with-forward-dev.xml:6:24: forward dev not allowed for network 'open' with forward mode='open'",
  ],
  ['open-network.xml', { mode: 'open', dev: null, bridge: 'virbr1', ips: ['192.168.122.1/24'], dhcp: [], dns: true }],
  ['openvswitch-net.xml', { ...none, mode: 'bridge' }],
  ['passthrough-address-crash.xml', { ...none, mode: 'passthrough' }],
  [
    'passthrough-duplicate.xml',
    "passthrough-duplicate.xml:8:16: interface 'eth3' can only be listed once in network passthrough-duplicate",
  ],
  // Accepted by libvirt's parser (networkxml2xml); `virsh net-define` would still refuse the
  // <ip> in passthrough mode (networkValidate), which virtables does not model.
  ['passthrough-pf.xml', { ...none, mode: 'passthrough', ips: ['192.168.122.1/24'] }],
  [
    'routed-network-no-dns-extra-elements.xml',
    "routed-network-no-dns-extra-elements.xml:8:5: Extra data in disabled network 'local'",
  ],
  [
    'routed-network-no-dns.xml',
    { mode: 'route', dev: 'eth1', bridge: 'virbr1', ips: ['192.168.122.1/24'], dhcp: [], dns: false },
  ],
  [
    'routed-network.xml',
    { mode: 'route', dev: 'eth1', bridge: 'virbr1', ips: ['192.168.122.1/24'], dhcp: [], dns: true },
  ],
  [
    'set-mtu.xml',
    {
      mode: 'none',
      dev: null,
      bridge: 'virbr2',
      ips: ['192.168.152.1/24'],
      dhcp: ['192.168.152.2-192.168.152.254'],
      dns: true,
    },
  ],
  ['vepa-net.xml', { ...none, mode: 'vepa', dev: 'eth1' }],
];

describeCorpus('libvirt networkxml2xml inputs', () => {
  it('the table covers every input file', () => {
    const files = readdirSync(XML_DIR)
      .filter((f) => f.endsWith('.xml'))
      .sort();
    expect(EXPECTED.map(([f]) => f).sort()).toEqual(files);
  });

  it.each(EXPECTED)('%s', (file, expected) => {
    if (typeof expected === 'string') {
      expect(() => readFile(XML_DIR, file)).toThrow(InputError);
      expect(() => readFile(XML_DIR, file)).toThrow(expected);
      return;
    }
    const networks = readFile(XML_DIR, file);
    expect(networks).toHaveLength(1);
    expect(summary(networks[0]!)).toEqual(expected);
  });

  const outputs = readdirSync(join(XML_DIR, 'expected-out')).filter((f) => f.endsWith('.xml'));
  it.each(outputs)('expected-out/%s reads into the same network as its input', (file) => {
    const input = readFile(XML_DIR, file)[0]!;
    const output = readFile(join(XML_DIR, 'expected-out'), file)[0]!;
    expect(withoutOrigins(input)).toEqual(withoutOrigins(output));
  });

  it("fills in libvirt's defaults: <forward/> is nat with ports 1024-65535, stp on, delay 0", () => {
    const [netboot] = readFile(XML_DIR, 'netboot-network.xml');
    expect(netboot!.forward).toEqual({
      mode: 'nat',
      dev: null,
      interfaces: [],
      pf: null,
      nat: { addressStart: null, addressEnd: null, portStart: 1024, portEnd: 65535, ipv6: false },
    });
    expect(netboot!.bridge).toEqual({ name: 'virbr1', stp: false, delay: 1, zone: null, macTableManager: null });
    expect(netboot!.domain).toEqual({ name: 'example.com', localOnly: false });
    expect(netboot!.ips[0]!.tftpRoot).toBe('/var/lib/tftproot');
    expect(netboot!.ips[0]!.bootp).toBe('pxeboot.img');
    const [isolated] = readFile(XML_DIR, 'isolated-network.xml');
    expect(isolated!.bridge).toEqual({ name: 'virbr2', stp: true, delay: 0, zone: null, macTableManager: null });
    expect(isolated!.forward.nat).toBeNull();
    expect(isolated!.mac).toBe('52:54:00:17:3f:37');
    expect(isolated!.ipv6).toBe(false);
  });

  it('reads <nat> addresses, ports and ipv6, the classful prefix, and forward dev as the first interface', () => {
    const [address] = readFile(XML_DIR, 'nat-network-forward-nat-address.xml');
    const nat = address!.forward.nat!;
    expect([
      formatHost(4, nat.addressStart!.value),
      formatHost(4, nat.addressEnd!.value),
      nat.portStart,
      nat.portEnd,
      nat.ipv6,
    ]).toEqual(['10.20.30.40', '10.20.30.44', 60000, 65432, false]);
    expect(address!.forward.interfaces).toEqual(['eth1']);
    const [v6] = readFile(XML_DIR, 'nat-network-forward-nat-ipv6.xml');
    expect(v6!.forward.nat!.ipv6).toBe(true);
    expect(v6!.ips.map((ip) => ip.family)).toEqual([6]);
    const [leases] = readFile(XML_DIR, 'leasetime-hours.xml');
    expect(leases!.forward.interfaces).toEqual(['eth1']);
    const [vepa] = readFile(XML_DIR, 'vepa-net.xml');
    expect(vepa!.forward.interfaces).toEqual(['eth1', 'eth2', 'eth3']);
    const [pf] = readFile(XML_DIR, 'hostdev-pf.xml');
    expect(pf!.forward.pf).toBe('eth2');
  });

  it('reads <dns>: off, forwarders, hosts, srv and txt records, forwardPlainNames', () => {
    expect(readFile(XML_DIR, 'routed-network-no-dns.xml')[0]!.dns.enable).toBe(false);
    const forwarders = readFile(XML_DIR, 'nat-network-dns-forwarders.xml')[0]!.dns;
    expect(forwarders.forwarders).toEqual([
      { addr: '8.8.8.8', domain: null },
      { addr: '8.8.4.4', domain: null },
      { addr: '192.168.1.1', domain: 'example.com' },
      { addr: null, domain: 'www.example.com' },
    ]);
    const hosts = readFile(XML_DIR, 'nat-network-dns-hosts.xml')[0]!.dns;
    expect(hosts.forwardPlainNames).toBe(false);
    expect(hosts.hosts.map((h) => [h.ip, h.hostnames])).toEqual([
      ['192.168.122.122', ['pudding']],
      ['192.168.122.1', ['host', 'gateway']],
      ['192.168.122.2', ['shared', 'names']],
      ['fd8f:1391:3a82:150::c0a8:9603', ['shared', 'names']],
    ]);
    expect(readFile(XML_DIR, 'nat-network-dns-srv-records.xml')[0]!.dns.srv).toEqual([
      { service: 'name', protocol: 'tcp', target: '.', port: 1024 },
      { service: 'name', protocol: 'tcp', target: '.', port: 404 },
    ]);
    expect(readFile(XML_DIR, 'nat-network-dns-txt-record.xml')[0]!.dns.txt).toEqual([
      { name: 'example', value: 'example value' },
    ]);
    expect(readFile(XML_DIR, 'nat-network-dns-forward-plain.xml')[0]!.dns.forwardPlainNames).toBe(true);
  });

  it('reads mtu, ipv6=yes, zone, macTableManager and DHCP hosts', () => {
    expect(readFile(XML_DIR, 'set-mtu.xml')[0]!.mtu).toBe(9000);
    expect(readFile(XML_DIR, 'empty-allow-ipv6.xml')[0]!.ipv6).toBe(true);
    expect(readFile(XML_DIR, 'routed-network.xml')[0]!.bridge!.zone).toBe('myzone');
    expect(readFile(XML_DIR, 'host-bridge-no-flood.xml')[0]!.bridge!.macTableManager).toBe('libvirt');
    const hosts = readFile(XML_DIR, 'dhcp6host-routed-network.xml')[0]!.ips.map((ip) =>
      ip.dhcpHosts.map((h) => [h.mac, h.name, h.ip && formatHost(h.ip.family, h.ip.value)]),
    );
    expect(hosts).toEqual([
      [
        ['00:16:3e:77:e2:ed', 'a.example.com', '192.168.122.10'],
        ['00:16:3e:3e:a9:1a', 'b.example.com', '192.168.122.11'],
      ],
      [
        [null, null, '2001:db8:ac10:fd01::1:20'],
        [null, 'paul', '2001:db8:ac10:fd01::1:21'],
        [null, 'peter.xyz', '2001:db8:ac10:fd01::1:22'],
        [null, null, '2001:db8:ac10:fd01::1:23'],
        [null, 'badbob', '2001:db8:ac10:fd01::1:24'],
      ],
    ]);
  });
});

describeCorpus('other network XML in the shared corpus reads without error', () => {
  const dirs = [join(SHARED_CORPUS, 'libvirt', 'firewall'), join(SHARED_CORPUS, 'libvirt', 'firewall-legacy')];
  const files = dirs.flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.xml'))
      .map((f) => [join(dir, f), f] as const),
  );
  const real = join(SHARED_CORPUS, 'libvirt-real');
  for (const run of readdirSync(real).filter((d) => !d.includes('.'))) {
    for (const f of readdirSync(join(real, run)).filter((f) => f.endsWith('.xml')))
      files.push([join(real, run, f), `${run}/${f}`]);
  }

  it('finds the firewall, firewall-legacy and libvirt-real inputs', () => {
    expect(files.length).toBeGreaterThanOrEqual(18);
  });

  it.each(files)('%s', (path, name) => {
    const networks = readNetworks(read(path), name);
    expect(networks).toHaveLength(1);
    expect(['nat', 'route', 'none']).toContain(networks[0]!.forward.mode);
    expect(networks[0]!.bridge?.name).toMatch(/^virbr\d$/);
  });

  it.each([
    ['a-default-nat', 'live-default.xml', 'nat', 'virbr0'],
    ['b-host-only', 'live-host-only.xml', 'none', 'virbr1'],
    ['c-natted', 'live-natted.xml', 'nat', 'virbr2'],
  ])('%s: what libvirt 9.0 reports live is what virtables fills in for network.xml', (run, live, mode, bridge) => {
    const defined = readNetworks(read(join(real, run, 'network.xml')), 'network.xml')[0]!;
    const running = readNetworks(read(join(real, run, live)), live)[0]!;
    expect([defined.forward.mode, defined.bridge?.name]).toEqual([mode, bridge]);
    // libvirt generates the uuid and the bridge MAC when it defines the network.
    expect(defined.uuid).toBeNull();
    expect(running.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(withoutOrigins({ ...running, uuid: null, mac: null })).toEqual(withoutOrigins(defined));
  });
});
