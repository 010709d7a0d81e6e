// The libvirt reader on the seed lab's networks (corpus/seed-lab), on files this project wrote
// (corpus/network-xml), and libvirt's validation rules: each invalid definition gives
// libvirt's message at the element or attribute at fault.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatCidr, formatHost } from '../../src/model/cidr.js';
import type { Network } from '../../src/model/network.js';
import { readNetworks, readNetworksBytes } from '../../src/network/libvirt.js';
import { REPO_CORPUS } from '../helpers/env.js';
import { errorOf } from '../helpers/errors.js';

const SEED_LAB = join(REPO_CORPUS, 'seed-lab');
const XML_CORPUS = join(REPO_CORPUS, 'network-xml');

interface Expected {
  name: string;
  uuid: string | null;
  mode: string;
  bridge: string | null;
  stp: boolean;
  subnets: string[];
  hosts: string[];
  dhcp: string[];
  ports: string | null;
  mac: string | null;
  connections: number | null;
}

function model(n: Network): Expected {
  const host = (a: { family: 4 | 6; value: bigint }) => formatHost(a.family, a.value);
  return {
    name: n.name,
    uuid: n.uuid,
    mode: n.forward.mode,
    bridge: n.bridge?.name ?? null,
    stp: n.bridge?.stp ?? false,
    subnets: n.ips.map((ip) => formatCidr(ip.subnet)),
    hosts: n.ips.map((ip) => host(ip.address)),
    dhcp: n.ips.flatMap((ip) => ip.dhcpRanges.map((r) => `${host(r.start)}-${host(r.end)}`)),
    ports: n.forward.nat && `${n.forward.nat.portStart}-${n.forward.nat.portEnd}`,
    mac: n.mac,
    connections: n.connections,
  };
}

const base = { uuid: null, stp: true, mac: null, connections: null };

// Seed 000 (the CentOS 5 / Xen lab: sections 0.1.2, 0.1.5, 0.1.6, 0.4.2) and seed 004 (KVM walkthrough).
const SEED_NETWORKS: Array<[string, Expected]> = [
  [
    'default.xml',
    {
      ...base,
      name: 'default',
      mode: 'nat',
      bridge: 'virbr0',
      subnets: ['192.168.122.0/24'],
      hosts: ['192.168.122.1'],
      dhcp: ['192.168.122.2-192.168.122.254'],
      ports: '1024-65535',
    },
  ],
  [
    'default-dumpxml.xml',
    {
      ...base,
      name: 'default',
      uuid: 'd99113fb-948a-4ec0-b763-8de5a3c8023b',
      mode: 'nat',
      bridge: 'virbr0',
      subnets: ['192.168.122.0/24'],
      hosts: ['192.168.122.1'],
      dhcp: ['192.168.122.2-192.168.122.254'],
      ports: '1024-65535',
    },
  ],
  [
    'host-only.xml',
    {
      ...base,
      name: 'host-only',
      mode: 'none',
      bridge: 'virbr1',
      subnets: ['192.168.123.0/24'],
      hosts: ['192.168.123.1'],
      dhcp: ['192.168.123.2-192.168.123.254'],
      ports: null,
    },
  ],
  [
    'natted.xml',
    {
      ...base,
      name: 'natted',
      mode: 'nat',
      bridge: 'virbr2',
      subnets: ['192.168.124.0/24'],
      hosts: ['192.168.124.1'],
      dhcp: ['192.168.124.2-192.168.124.254'],
      ports: '1024-65535',
    },
  ],
  [
    'not_even_host.xml',
    { ...base, name: 'not_even_host', mode: 'none', bridge: 'virbr3', subnets: [], hosts: [], dhcp: [], ports: null },
  ],
  [
    'default-004.xml',
    {
      ...base,
      name: 'default',
      uuid: '8f7e6477-61df-4468-83fc-966d41d22302',
      mode: 'nat',
      bridge: 'virbr0',
      subnets: ['192.168.122.0/24'],
      hosts: ['192.168.122.1'],
      dhcp: ['192.168.122.2-192.168.122.254'],
      ports: '1024-65535',
      mac: '52:54:00:35:ac:06',
      connections: 1,
    },
  ],
  [
    'natntw.xml',
    {
      ...base,
      name: 'natntw',
      mode: 'nat',
      bridge: 'virbr1',
      subnets: ['192.168.100.0/24'],
      hosts: ['192.168.100.1'],
      dhcp: ['192.168.100.10-192.168.100.254'],
      ports: '1024-65535',
    },
  ],
  [
    'hostntw.xml',
    {
      ...base,
      name: 'hostntw',
      mode: 'none',
      bridge: 'virbr2',
      subnets: ['192.168.110.0/24'],
      hosts: ['192.168.110.1'],
      dhcp: ['192.168.110.10-192.168.110.254'],
      ports: null,
    },
  ],
];

describe('the seed lab networks (corpus/seed-lab)', () => {
  it.each(SEED_NETWORKS)('%s', (file, expected) => {
    const networks = readNetworksBytes(readFileSync(join(SEED_LAB, file)), file);
    expect(networks.map(model)).toEqual([expected]);
    expect(networks[0]!.origin).toEqual({ file, pos: { line: 1, col: 1 } });
  });

  it("the lab's default.xml and what `virsh net-dumpxml default` showed are the same network", () => {
    const [defined] = readNetworks(readFileSync(join(SEED_LAB, 'default.xml'), 'utf8'), 'default.xml');
    const [dumped] = readNetworks(readFileSync(join(SEED_LAB, 'default-dumpxml.xml'), 'utf8'), 'default-dumpxml.xml');
    const strip = (n: Network) => ({
      ...n,
      uuid: null,
      origin: null,
      ips: n.ips.map((ip) => ({ ...ip, origin: null })),
    });
    expect(strip(dumped!)).toEqual(strip(defined!));
  });

  it('host-only keeps DNS on: the lab query 4 leak', () => {
    const [hostOnly] = readNetworks(readFileSync(join(SEED_LAB, 'host-only.xml'), 'utf8'), 'host-only.xml');
    expect(hostOnly!.dns.enable).toBe(true);
    expect(hostOnly!.ips[0]!.origin).toEqual({ file: 'host-only.xml', pos: { line: 4, col: 3 } });
  });
});

describe('files this project wrote (corpus/network-xml)', () => {
  it('concatenated.xml: three networks, one per document', () => {
    const networks = readNetworks(readFileSync(join(XML_CORPUS, 'concatenated.xml'), 'utf8'), 'concatenated.xml');
    expect(networks.map(model)).toEqual([
      {
        ...base,
        name: 'lab-nat',
        uuid: '0b5e5e0c-8f7e-4c2a-9a52-3b2d7a1c0e01',
        mode: 'nat',
        bridge: 'virbr10',
        subnets: ['10.10.0.0/24'],
        hosts: ['10.10.0.1'],
        dhcp: ['10.10.0.100-10.10.0.199'],
        ports: '1024-65535',
        mac: '52:54:00:0a:0b:0c',
      },
      {
        ...base,
        name: 'lab-isolated',
        mode: 'none',
        bridge: 'virbr11',
        subnets: ['fd00:11::/64', '172.16.0.0/16'],
        hosts: ['fd00:11::1', '172.16.11.1'],
        dhcp: [],
        ports: null,
      },
      {
        ...base,
        name: 'lab-route',
        mode: 'route',
        bridge: 'virbr12',
        subnets: ['192.0.2.0/28'],
        hosts: ['192.0.2.1'],
        dhcp: ['192.0.2.2-192.0.2.14'],
        ports: null,
      },
    ]);
    expect(networks[0]!.domain).toEqual({ name: 'lab.example', localOnly: true });
    expect(networks[0]!.ips[0]!.dhcpHosts).toEqual([
      { mac: '52:54:00:aa:bb:01', name: 'build-01', ip: { family: 4, value: 0x0a0a000bn } },
    ]);
    expect(networks[1]!.dns.enable).toBe(false);
    expect(networks[2]!.forward.dev).toBe('eth1');
    expect(networks.map((n) => n.origin.pos.line)).toEqual([4, 27, 34]);
  });

  it('status-default.xml: the <network> inside libvirt status XML', () => {
    const networks = readNetworks(readFileSync(join(XML_CORPUS, 'status-default.xml'), 'utf8'), 'status-default.xml');
    expect(networks.map(model)).toEqual([
      {
        ...base,
        name: 'default',
        uuid: '8761ad62-9d17-4977-8173-4a4a6cf12782',
        mode: 'nat',
        bridge: 'virbr0',
        subnets: ['192.168.122.0/24'],
        hosts: ['192.168.122.1'],
        dhcp: ['192.168.122.2-192.168.122.254'],
        ports: '1024-65535',
        mac: '52:54:00:7d:fe:79',
      },
    ]);
    expect(networks[0]!.origin.pos).toEqual({ line: 4, col: 3 });
  });
});

// Invalid definitions: libvirt's message (network_conf.c, virsocketaddr.c) at the place at fault.
const net = (inner: string, attrs = '') => `<network${attrs}>\n  <name>t</name>\n${inner}\n</network>\n`;

const INVALID: Array<[string, string, string]> = [
  ['missing name', '<network>\n  <bridge name="virbr0"/>\n</network>', 't.xml:1:1: missing name information'],
  ['empty name', '<network><name></name></network>', 't.xml:1:10: missing name information'],
  ['slash in the name', '<network><name>a/b</name></network>', 't.xml:1:10: invalid char in name: /'],
  ['malformed uuid', net('  <uuid>not-a-uuid</uuid>'), 't.xml:3:3: malformed uuid element'],
  ['bad ipv6 setting', net('', " ipv6='maybe'"), "t.xml:1:10: Invalid ipv6 setting 'maybe' in network 't'"],
  [
    'bad address',
    net("  <ip address='192.168.122.300' netmask='255.255.255.0'/>"),
    "t.xml:3:7: Invalid address '192.168.122.300' in network 't'",
  ],
  [
    'missing address',
    net("  <ip netmask='255.255.255.0'/>"),
    "t.xml:3:3: Missing required address attribute in network 't'",
  ],
  [
    'bad netmask',
    net("  <ip address='10.0.0.1' netmask='255.255.0.x'/>"),
    "t.xml:3:26: Invalid netmask '255.255.0.x' in network 't'",
  ],
  [
    'netmask with holes',
    net("  <ip address='10.0.0.1' netmask='255.0.255.0'/>"),
    "t.xml:3:26: netmask '255.0.255.0' of network 't' is not contiguous (libvirt cannot compute a prefix from it)",
  ],
  [
    'netmask and prefix',
    net("  <ip address='10.0.0.1' netmask='255.0.0.0' prefix='8'/>"),
    "t.xml:3:46: Network 't' IP address cannot have both a prefix and a netmask",
  ],
  [
    'IPv4 prefix too long',
    net("  <ip address='10.0.0.1' prefix='33'/>"),
    "t.xml:3:26: Invalid IPv4 prefix '33' in network 't'",
  ],
  [
    'prefix not a number',
    net("  <ip address='10.0.0.1' prefix='/24'/>"),
    "t.xml:3:26: Invalid value for attribute 'prefix' in element 'ip': '/24'. Expected non-negative integer value",
  ],
  [
    'IPv6 address without family',
    net("  <ip address='2001:db8::1' prefix='64'/>"),
    "t.xml:3:7: no family specified for non-IPv4 address '2001:db8::1' in network 't'",
  ],
  [
    'ipv6 family on an IPv4 address',
    net("  <ip family='ipv6' address='10.0.0.1'/>"),
    "t.xml:3:21: Family 'ipv6' specified for non-IPv6 address '10.0.0.1' in network 't'",
  ],
  [
    'netmask on IPv6',
    net("  <ip family='ipv6' address='fd00::1' netmask='ffff::'/>"),
    "t.xml:3:39: netmask not allowed for IPv6 address 'fd00::1' in network 't'",
  ],
  [
    'unknown family',
    net("  <ip family='ipx' address='10.0.0.1'/>"),
    "t.xml:3:7: Unrecognized family 'ipx' in network 't'",
  ],
  [
    'class D address without prefix',
    net("  <ip address='224.0.0.1'/>"),
    "t.xml:3:7: address '224.0.0.1' of network 't' has no classful prefix (class D/E); give prefix= or netmask=",
  ],
  [
    'DHCP range outside the subnet',
    net(
      "  <ip address='192.168.122.1' netmask='255.255.255.0'>\n    <dhcp><range start='192.168.123.2' end='192.168.123.254'/></dhcp>\n  </ip>",
    ),
    't.xml:4:11: range 192.168.123.2 - 192.168.123.254 is not entirely within network 192.168.122.1/24',
  ],
  [
    'DHCP range reversed',
    net(
      "  <ip address='192.168.122.1' netmask='255.255.255.0'>\n    <dhcp><range start='192.168.122.200' end='192.168.122.100'/></dhcp>\n  </ip>",
    ),
    't.xml:4:11: range 192.168.122.200 - 192.168.122.100 is reversed',
  ],
  [
    'DHCP range from the network address',
    net(
      "  <ip address='192.168.122.1' prefix='24'>\n    <dhcp><range start='192.168.122.0' end='192.168.122.9'/></dhcp>\n  </ip>",
    ),
    't.xml:4:11: start of range 192.168.122.0 - 192.168.122.9 in network 192.168.122.1/24 is the network address',
  ],
  [
    'DHCP range to the broadcast address',
    net(
      "  <ip address='192.168.122.1' prefix='24'>\n    <dhcp><range start='192.168.122.2' end='192.168.122.255'/></dhcp>\n  </ip>",
    ),
    't.xml:4:11: end of range 192.168.122.2 - 192.168.122.255 in network 192.168.122.1/24 is the broadcast address',
  ],
  [
    'DHCP range too large',
    net("  <ip address='10.0.0.1' prefix='8'>\n    <dhcp><range start='10.0.0.2' end='10.2.0.1'/></dhcp>\n  </ip>"),
    't.xml:4:11: range 10.0.0.2 - 10.2.0.1 is too large (> 65535)',
  ],
  [
    'IPv6 DHCP range reversed',
    net(
      "  <ip family='ipv6' address='fd00::1' prefix='64'>\n    <dhcp><range start='fd00::ff' end='fd00::10'/></dhcp>\n  </ip>",
    ),
    't.xml:4:11: range fd00::ff - fd00::10 start larger than end',
  ],
  [
    'DHCP range of the other family',
    net("  <ip address='10.0.0.1' prefix='8'>\n    <dhcp><range start='fd00::2' end='fd00::9'/></dhcp>\n  </ip>"),
    't.xml:4:11: mismatch of address family in range fd00::2 - fd00::9 for network 10.0.0.1',
  ],
  [
    'unparsable DHCP range start',
    net("  <ip address='10.0.0.1' prefix='8'>\n    <dhcp><range start='10.0.0' end='10.0.0.9'/></dhcp>\n  </ip>"),
    "t.xml:4:18: Cannot parse socket address '10.0.0': Name or service not known",
  ],
  [
    'DHCP host without mac or name',
    net("  <ip address='10.0.0.1' prefix='8'>\n    <dhcp><host ip='10.0.0.5'/></dhcp>\n  </ip>"),
    "t.xml:4:11: Static host definition in IPv4 network 't' must have mac or name attribute",
  ],
  [
    'multicast DHCP host mac',
    net(
      "  <ip address='10.0.0.1' prefix='8'>\n    <dhcp><host mac='01:00:5e:00:00:01' ip='10.0.0.5'/></dhcp>\n  </ip>",
    ),
    "t.xml:4:17: expected unicast mac address, found multicast '01:00:5e:00:00:01' in network 't'",
  ],
  [
    'tftp on IPv6',
    net("  <ip family='ipv6' address='fd00::1'>\n    <tftp root='/srv'/>\n  </ip>"),
    "t.xml:4:5: Unsupported <tftp> element in an IPv6 element in network 't'",
  ],
  [
    'lease too short',
    net(
      "  <ip address='10.0.0.1' prefix='8'>\n    <dhcp><range start='10.0.0.2' end='10.0.0.9'><lease expiry='60' unit='seconds'/></range></dhcp>\n  </ip>",
    ),
    't.xml:4:57: The minimum lease time should be greater than 2 minutes',
  ],
  [
    'unknown forward mode',
    net("  <forward mode='masquerade'/>\n  <ip address='10.0.0.1' prefix='8'/>"),
    "t.xml:3:12: unknown forwarding type 'masquerade'",
  ],
  [
    'nat without an address',
    net('  <forward/>'),
    "t.xml:3:3: nat forwarding requested, but no IP address provided for network 't'",
  ],
  [
    'dev on an open network',
    net("  <forward mode='open' dev='eth0'/>\n  <ip address='10.0.0.1' prefix='8'/>"),
    "t.xml:3:24: forward dev not allowed for network 't' with forward mode='open'",
  ],
  [
    'two forward interfaces on nat',
    net(
      "  <forward mode='nat'><interface dev='eth0'/><interface dev='eth1'/></forward>\n  <ip address='10.0.0.1' prefix='8'/>",
    ),
    "t.xml:3:3: multiple forwarding interfaces specified for network 't', only one is supported",
  ],
  [
    'forward dev and first interface differ',
    net("  <forward mode='nat' dev='eth0'><interface dev='eth1'/></forward>\n  <ip address='10.0.0.1' prefix='8'/>"),
    "t.xml:3:45: <forward dev='eth0'> must match first <interface dev='eth1'/> in network t",
  ],
  [
    'nat element on a routed network',
    net("  <forward mode='route'><nat/></forward>\n  <ip address='10.0.0.1' prefix='8'/>"),
    "t.xml:3:25: The <nat> element can only be used when <forward> 'mode' is 'nat' in network t",
  ],
  [
    'port range out of order',
    net("  <forward><nat><port start='2000' end='1000'/></nat></forward>\n  <ip address='10.0.0.1' prefix='8'/>"),
    "t.xml:3:36: Missing or invalid 'end' attribute in <port> in <nat> in <forward> in network t",
  ],
  [
    'port beyond 65535',
    net("  <forward><nat><port start='70000' end='80000'/></nat></forward>\n  <ip address='10.0.0.1' prefix='8'/>"),
    "t.xml:3:23: Missing or invalid 'start' attribute in <port> in <nat> in <forward> in network t",
  ],
  [
    'IPv6 SNAT address',
    net(
      "  <forward><nat><address start='fd00::1' end='fd00::2'/></nat></forward>\n  <ip address='10.0.0.1' prefix='8'/>",
    ),
    "t.xml:3:26: Bad ipv4 start address 'fd00::1' in <nat> in <forward> in network 't'",
  ],
  [
    'SNAT range reversed',
    net(
      "  <forward><nat><address start='10.1.1.9' end='10.1.1.1'/></nat></forward>\n  <ip address='10.0.0.1' prefix='8'/>",
    ),
    't.xml:3:17: range 10.1.1.9 - 10.1.1.1 is reversed',
  ],
  [
    'bridge name too long',
    net("  <bridge name='virbr-far-too-long'/>"),
    "t.xml:3:11: bridge name 'virbr-far-too-long' is too long (18 characters; a Linux interface name has at most 15, so libvirt cannot create it: \"Network interface name 'virbr-far-too-long' is too long\")",
  ],
  [
    'bridge name in passthrough mode',
    net("  <forward mode='passthrough'><interface dev='eth0'/></forward>\n  <bridge name='br0'/>"),
    "t.xml:4:11: bridge name not allowed in passthrough mode (network 't')",
  ],
  [
    'stp on a host bridge',
    net("  <forward mode='bridge'/>\n  <bridge name='br0' stp='on'/>"),
    "t.xml:4:22: bridge delay/stp/zone options only allowed in route, nat, and isolated mode, not in bridge (network 't')",
  ],
  [
    'host bridge and forward dev',
    net("  <forward mode='bridge' dev='eth0'/>\n  <bridge name='br0'/>"),
    "t.xml:4:11: A network with forward mode='bridge' can specify a bridge name or a forward dev, but not both (network 't')",
  ],
  [
    'mtu on a host bridge',
    net("  <forward mode='bridge'/>\n  <bridge name='br0'/>\n  <mtu size='9000'/>"),
    "t.xml:5:8: mtu size only allowed in open, route, nat, and isolated mode, not in bridge (network 't')",
  ],
  ['bad delay', net("  <bridge name='virbr0' delay='-1'/>"), "t.xml:3:25: Invalid delay value in network 't'"],
  [
    'bad bridge mac',
    net("  <mac address='52:54:00:zz:00:01'/>"),
    "t.xml:3:8: Invalid bridge mac address '52:54:00:zz:00:01' in network 't'",
  ],
  [
    'DNS host without hostname',
    net("  <dns><host ip='10.0.0.2'/></dns>"),
    "t.xml:3:8: Missing hostname in network 't' DNS HOST record",
  ],
  [
    'DNS forwarder without addr or domain',
    net('  <dns><forwarder/></dns>'),
    't.xml:3:8: Invalid forwarder element, must contain at least one of addr or domain',
  ],
  [
    'DNS SRV port without target',
    net("  <dns><srv service='ldap' protocol='tcp' port='389'/></dns>"),
    "t.xml:3:43: DNS SRV port attribute not permitted without target for service 'ldap' in network 't'",
  ],
  [
    'DNS TXT name with a space',
    net("  <dns><txt name='a b' value='c'/></dns>"),
    "t.xml:3:13: prohibited character in DNS TXT record name 'a b' of network t",
  ],
  [
    'disabled DNS with records',
    net("  <dns enable='no'>\n    <host ip='10.0.0.2'><hostname>x</hostname></host>\n  </dns>"),
    "t.xml:4:5: Extra data in disabled network 't'",
  ],
  [
    'dns enable neither yes nor no',
    net("  <dns enable='off'/>"),
    "t.xml:3:8: Invalid value for attribute 'enable' in element 'dns': 'off'.",
  ],
  [
    'not a network',
    '<domain type="kvm"><name>vm1</name></domain>',
    't.xml:1:1: expected a libvirt <network> definition, found <domain>',
  ],
  ['empty file', '\n', 't.xml:1:1: no <network> element found (empty input?)'],
  [
    'status XML without a network',
    '<networkstatus><floor sum="0"/></networkstatus>',
    't.xml:1:1: status XML <networkstatus> holds no <network>',
  ],
  [
    'second document invalid',
    `${net('')}${net("  <forward mode='bogus'/>")}`,
    "t.xml:7:12: unknown forwarding type 'bogus'",
  ],
];

describe('libvirt validation: message and position', () => {
  it.each(INVALID)('%s', (_name, text, message) => {
    expect(errorOf(() => readNetworks(text, 't.xml'))).toBe(message);
  });

  it('accepts what libvirt accepts at the edges: mode none, prefix 0 with a netmask, 0-0 ports', () => {
    const [isolated] = readNetworks(
      net("  <forward mode='none'/>\n  <ip address='10.1.2.3' netmask='255.255.0.0' prefix='0'/>"),
      't.xml',
    );
    expect([isolated!.forward.mode, formatCidr(isolated!.ips[0]!.subnet)]).toEqual(['none', '10.1.0.0/16']);
    const [defaults] = readNetworks(
      net("  <forward mode=''><nat><port start='0' end='0'/></nat></forward>\n  <ip address='172.20.0.1'/>"),
      't.xml',
    );
    expect([
      defaults!.forward.mode,
      defaults!.forward.nat!.portStart,
      defaults!.forward.nat!.portEnd,
      formatCidr(defaults!.ips[0]!.subnet),
    ]).toEqual(['nat', 1024, 65535, '172.20.0.0/16']);
  });
});
