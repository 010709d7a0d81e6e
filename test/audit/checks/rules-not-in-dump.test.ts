// rules-not-in-dump: libvirt 10.4+ keeps its rules in nftables.
import { checkCases, AUDIT, SEED, REAL } from '../harness.js';
import { join } from 'node:path';

const natted = join(SEED, 'natted.xml');

checkCases('rules-not-in-dump', {
  valid: [
    { name: 'natted with its iptables rules', dumps: [join(AUDIT, 'natted.save')], net: [natted] },
    { name: 'no running network, no note', dumps: [join(REAL, 'c-natted/destroyed.txt')] },
  ],
  invalid: [
    { name: 'iptables-nft-save notes the libvirt_network table', dumps: [join(AUDIT, 'rules-not-in-dump/nft-host.save')], net: [natted], findings: [{ network: 'natted', severity: 'warning', line: 1, message: ['nft table `libvirt_network`', "cannot show it"] }] },
    { name: 'the same without definitions', dumps: [join(AUDIT, 'rules-not-in-dump/nft-host.save')], findings: [{ network: null, severity: 'info', line: 11, message: ['libvirt_network'] }] },
    { name: 'an empty dump (nft host, nothing in iptables) while the default network runs', dumps: [join(REAL, 'a-default-nat/before.txt')], net: [join(REAL, 'a-default-nat/network.xml')], findings: [{ network: 'default', severity: 'warning', message: ['none of its rules'] }] },
    { name: '--flavor libvirt-nft: expected, so info', dumps: [join(AUDIT, 'rules-not-in-dump/nft-host.save')], net: [natted], flavor: 'libvirt-nft', findings: [{ network: 'natted', severity: 'info' }] },
  ],
});
