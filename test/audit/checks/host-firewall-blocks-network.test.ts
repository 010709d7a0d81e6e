// host-firewall-blocks-network: the host's own firewall (a native nft table, iptables-nft's REJECTs)
// against libvirt's nftables backend, on files real nft printed and the real libvirt 11.3 capture k.
import { join } from 'node:path';
import { SHARED_CORPUS } from '../../helpers/env.js';
import { AUDIT, checkCases, SEED } from '../harness.js';

const dir = join(AUDIT, 'host-firewall-blocks-network');
const natted = join(SEED, 'natted.xml');
const k = join(SHARED_CORPUS, 'nft-real', 'k-iptables-hostfw-plus-nft');
const dropped = [
  { network: 'natted', severity: 'error', message: ['table inet filter, chain input, by its policy (policy drop)', 'DNS queries', 'no INPUT rules'] },
  { network: 'natted', severity: 'error', message: ['table inet filter, chain input, by its policy (policy drop)', 'DHCP requests (udp 67)'] },
  { network: 'natted', severity: 'error', message: ['table inet filter, chain forward, by its policy (policy drop)', 'starting connections to the outside', 'ends only that table\'s chain'] },
] as const;

checkCases('host-firewall-blocks-network', {
  valid: [
    { name: 'inet filter policy drop that accepts the bridges\' DHCP, DNS and forwarding', dumps: [], nft: join(dir, 'inet-filter-open.nft'), net: [natted] },
    { name: 'libvirt 11.3 alone (nft-real a)', dumps: [], nft: join(SHARED_CORPUS, 'nft-real', 'a-default-nat', 'after.nft.txt'), net: [join(SHARED_CORPUS, 'nft-real', 'a-default-nat', 'network.xml')] },
    { name: 'the iptables backend: libvirt\'s accepts sit above the host\'s REJECT', dumps: [join(AUDIT, 'natted.save')], net: [natted] },
  ],
  invalid: [
    { name: 'inet filter policy drop, nothing for the bridge (nft text)', dumps: [], nft: join(dir, 'inet-filter-drop.nft'), net: [natted], findings: [...dropped] },
    { name: 'the same as nft -j JSON', dumps: [], nft: join(dir, 'inet-filter-drop.json'), net: [natted], findings: [...dropped] },
    {
      name: 'nft-real k: a CentOS-style iptables-nft firewall next to libvirt 11.3',
      dumps: [join(k, 'after.iptables-save.txt')], nft: join(k, 'after.nft.txt'), net: [join(k, 'network1.xml'), join(k, 'network2.xml')],
      findings: [
        { network: 'default', severity: 'error', line: 10, message: ['-A INPUT -j REJECT --reject-with icmp-host-prohibited', 'DNS queries'] },
        { network: 'default', severity: 'error', line: 10, message: ['DHCP requests'] },
        { network: 'default', severity: 'error', line: 11, message: ['-A FORWARD -j REJECT', 'starting connections to the outside'] },
        { network: 'host-only', severity: 'error', line: 10, message: ['DNS queries'] },
        { network: 'host-only', severity: 'error', line: 10, message: ['DHCP requests'] },
      ],
    },
  ],
});
