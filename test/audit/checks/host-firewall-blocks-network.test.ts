// host-firewall-blocks-network: the host's own firewall (a native nft table, iptables-nft's REJECTs)
// against libvirt's nftables backend, on files real nft printed and the real libvirt 11.3 capture k.
import { join } from 'node:path';
import { SHARED_CORPUS } from '../../helpers/env.js';
import { AUDIT, checkCases, SEED } from '../harness.js';

const dir = join(AUDIT, 'host-firewall-blocks-network');
const natted = join(SEED, 'natted.xml');
const k = join(SHARED_CORPUS, 'nft-real', 'k-iptables-hostfw-plus-nft');
const dropped = [
  {
    network: 'natted',
    severity: 'error',
    message: ['table inet filter, chain input, by its policy (policy drop)', 'DNS queries', 'no INPUT rules'],
    fix: 'accept the network\'s traffic in that chain before it is dropped: `nft insert rule inet filter input iifname "virbr2" meta l4proto { tcp, udp } th dport 53 accept` (and in the file the firewall is loaded from, e.g. /etc/nftables.conf), or let libvirt use its iptables backend (`firewall_backend = "iptables"` in /etc/libvirt/network.conf, restart virtnetworkd): libvirt then inserts its accepts into the host\'s own INPUT and FORWARD chains',
  },
  {
    network: 'natted',
    severity: 'error',
    message: ['table inet filter, chain input, by its policy (policy drop)', 'DHCP requests (udp 67)'],
    fix: 'accept the network\'s traffic in that chain before it is dropped: `nft insert rule inet filter input iifname "virbr2" udp dport 67 accept` (and in the file the firewall is loaded from, e.g. /etc/nftables.conf), or let libvirt use its iptables backend (`firewall_backend = "iptables"` in /etc/libvirt/network.conf, restart virtnetworkd): libvirt then inserts its accepts into the host\'s own INPUT and FORWARD chains',
  },
  {
    network: 'natted',
    severity: 'error',
    message: [
      'table inet filter, chain forward, by its policy (policy drop)',
      'starting connections to the outside',
      "ends only that table's chain",
    ],
    fix: 'accept the network\'s traffic in that chain before it is dropped: `nft insert rule inet filter forward iifname "virbr2" accept` and `nft insert rule inet filter forward oifname "virbr2" ct state established,related accept` (and in the file the firewall is loaded from, e.g. /etc/nftables.conf), or let libvirt use its iptables backend (`firewall_backend = "iptables"` in /etc/libvirt/network.conf, restart virtnetworkd): libvirt then inserts its accepts into the host\'s own INPUT and FORWARD chains',
  },
] as const;

checkCases('host-firewall-blocks-network', {
  valid: [
    {
      name: "inet filter policy drop that accepts the bridges' DHCP, DNS and forwarding",
      dumps: [],
      nft: join(dir, 'inet-filter-open.nft'),
      net: [natted],
    },
    {
      name: 'libvirt 11.3 alone (nft-real a)',
      dumps: [],
      nft: join(SHARED_CORPUS, 'nft-real', 'a-default-nat', 'after.nft.txt'),
      net: [join(SHARED_CORPUS, 'nft-real', 'a-default-nat', 'network.xml')],
    },
    {
      name: "the iptables backend: libvirt's accepts sit above the host's REJECT",
      dumps: [join(AUDIT, 'natted.save')],
      net: [natted],
    },
  ],
  invalid: [
    {
      name: 'inet filter policy drop, nothing for the bridge (nft text)',
      dumps: [],
      nft: join(dir, 'inet-filter-drop.nft'),
      net: [natted],
      findings: [...dropped],
    },
    {
      name: 'the same as nft -j JSON',
      dumps: [],
      nft: join(dir, 'inet-filter-drop.json'),
      net: [natted],
      findings: [...dropped],
    },
    {
      name: 'nft-real k: a CentOS-style iptables-nft firewall next to libvirt 11.3',
      dumps: [join(k, 'after.iptables-save.txt')],
      nft: join(k, 'after.nft.txt'),
      net: [join(k, 'network1.xml'), join(k, 'network2.xml')],
      findings: [
        {
          network: 'default',
          severity: 'error',
          line: 10,
          message: ['-A INPUT -j REJECT --reject-with icmp-host-prohibited', 'DNS queries'],
          fix: "accept it ahead of the host's rule: `iptables -I INPUT -i virbr0 -p udp --dport 53 -j ACCEPT` and `iptables -I INPUT -i virbr0 -p tcp --dport 53 -j ACCEPT` (and keep it in the host's saved rules, e.g. /etc/sysconfig/iptables); or let libvirt use its iptables backend (`firewall_backend = \"iptables\"` in /etc/libvirt/network.conf, restart virtnetworkd), which inserts these accepts itself ahead of the host's rules",
        },
        {
          network: 'default',
          severity: 'error',
          line: 10,
          message: ['DHCP requests'],
          fix: "accept it ahead of the host's rule: `iptables -I INPUT -i virbr0 -p udp --dport 67 -j ACCEPT` (and keep it in the host's saved rules, e.g. /etc/sysconfig/iptables); or let libvirt use its iptables backend (`firewall_backend = \"iptables\"` in /etc/libvirt/network.conf, restart virtnetworkd), which inserts these accepts itself ahead of the host's rules",
        },
        {
          network: 'default',
          severity: 'error',
          line: 11,
          message: ['-A FORWARD -j REJECT', 'starting connections to the outside'],
          fix: "accept it ahead of the host's rule: `iptables -I FORWARD -i virbr0 -j ACCEPT` and `iptables -I FORWARD -o virbr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT` (and keep it in the host's saved rules, e.g. /etc/sysconfig/iptables); or let libvirt use its iptables backend (`firewall_backend = \"iptables\"` in /etc/libvirt/network.conf, restart virtnetworkd), which inserts these accepts itself ahead of the host's rules",
        },
        {
          network: 'host-only',
          severity: 'error',
          line: 10,
          message: ['DNS queries'],
          fix: "accept it ahead of the host's rule: `iptables -I INPUT -i virbr1 -p udp --dport 53 -j ACCEPT` and `iptables -I INPUT -i virbr1 -p tcp --dport 53 -j ACCEPT` (and keep it in the host's saved rules, e.g. /etc/sysconfig/iptables); or let libvirt use its iptables backend (`firewall_backend = \"iptables\"` in /etc/libvirt/network.conf, restart virtnetworkd), which inserts these accepts itself ahead of the host's rules",
        },
        {
          network: 'host-only',
          severity: 'error',
          line: 10,
          message: ['DHCP requests'],
          fix: "accept it ahead of the host's rule: `iptables -I INPUT -i virbr1 -p udp --dport 67 -j ACCEPT` (and keep it in the host's saved rules, e.g. /etc/sysconfig/iptables); or let libvirt use its iptables backend (`firewall_backend = \"iptables\"` in /etc/libvirt/network.conf, restart virtnetworkd), which inserts these accepts itself ahead of the host's rules",
        },
      ],
    },
  ],
});
