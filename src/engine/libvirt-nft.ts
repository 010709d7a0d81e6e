// Flavour `libvirt-nft`: libvirt 10.4+ with the nftables backend (network_nftables.c). One
// table per family, `ip`/`ip6 libvirt_network`; no guest↔host rules (the table is its own,
// default-accept) and no mangle CHECKSUM: a tc filter on the bridge fixes DHCP checksums.

import { installsRules, type Network } from '../model/network.js';
import { findNftStateTable, type NftState } from './nft-state.js';
import { command } from './iptables.js';
import {
  bridgeOf,
  contextOf,
  forwardDevice,
  hasIpv6,
  ipBlock,
  natPorts,
  snatAddress,
  subnetText,
} from './libvirt-common.js';
import type { Command, NftFamily } from './program.js';
import type { Purpose, WhyContext } from './why.js';

export const NFT_TABLE = 'libvirt_network';

/** The chains of each libvirt_network table, in creation order, with the chain whose jump reaches them. */
const NFT_CHAINS: ReadonlyArray<{ name: string; parent: string | null; spec: string | null }> = [
  { name: 'forward', parent: null, spec: '{ type filter hook forward priority 0; policy accept; }' },
  { name: 'guest_output', parent: 'forward', spec: null },
  { name: 'guest_input', parent: 'forward', spec: null },
  { name: 'guest_cross', parent: 'forward', spec: null },
  { name: 'guest_nat', parent: null, spec: '{ type nat hook postrouting priority 100; policy accept; }' },
];

/** nftablesSetupPrivateChains for one family: list the table, add what is missing. */
export function nftSetup(family: NftFamily, current: NftState | undefined, network: string): Command[] {
  const meta = (purpose: Purpose, context: WhyContext) => ({ network, purpose, context, setup: true });
  const commands: Command[] = [
    command(
      ['nft', 'list', 'table', family, NFT_TABLE],
      { kind: 'none' },
      meta('probe', { table: `${family} ${NFT_TABLE}` }),
    ),
  ];
  const table = current ? findNftStateTable(current, family, NFT_TABLE) : undefined;
  if (!table)
    commands.push(
      command(
        ['nft', 'add', 'table', family, NFT_TABLE],
        { kind: 'nft-add-table', family, table: NFT_TABLE },
        meta('chain-setup', { table: `${family} ${NFT_TABLE}`, chain: NFT_TABLE }),
      ),
    );
  for (const chain of NFT_CHAINS) {
    if (!table?.chains.some((c) => c.name === chain.name)) {
      commands.push(
        command(
          ['nft', 'add', 'chain', family, NFT_TABLE, chain.name, ...(chain.spec ? [chain.spec] : [])],
          { kind: 'nft-add-chain', family, table: NFT_TABLE, chain: chain.name, spec: chain.spec },
          meta('chain-setup', { table: `${family} ${NFT_TABLE}`, chain: chain.name }),
        ),
      );
    }
    const parent = chain.parent;
    if (
      parent &&
      !table?.chains
        .find((c) => c.name === parent)
        ?.rules.some((r) => r.statement.join(' ').endsWith(`jump ${chain.name}`))
    ) {
      const statement = ['counter', 'jump', chain.name];
      commands.push(
        command(
          ['nft', 'insert', 'rule', family, NFT_TABLE, parent, ...statement],
          { kind: 'nft-insert', family, table: NFT_TABLE, chain: parent, statement },
          meta('chain-setup', { table: `${family} ${NFT_TABLE}`, chain: chain.name, parent }),
        ),
      );
    }
  }
  return commands;
}

/** The commands nftablesAddFirewallRules runs for one network. */
export function nftNetworkCommands(network: Network): Command[] {
  if (!installsRules(network.forward.mode)) return [];
  const bridge = bridgeOf(network);
  const base = contextOf(network);
  const commands: Command[] = [];
  const rule = (family: NftFamily, chain: string, statement: string[], purpose: Purpose, context: WhyContext): void => {
    commands.push(
      command(
        ['nft', '-ae', 'insert', 'rule', family, NFT_TABLE, chain, ...statement],
        { kind: 'nft-insert', family, table: NFT_TABLE, chain, statement },
        { network: network.name, purpose, context },
      ),
    );
  };

  // The checksum fix for DHCP replies, as a tc filter (the qdisc is added unless one exists).
  const tc = (argv: string[], purpose: Purpose): void => {
    commands.push(command(['tc', ...argv], { kind: 'none' }, { network: network.name, purpose, context: base }));
  };
  tc(['qdisc', 'show', 'dev', bridge, 'handle', '1:'], 'probe');
  tc(['qdisc', 'add', 'dev', bridge, 'root', 'handle', '1:', 'htb', 'default', '2'], 'checksum');
  tc(
    [
      'filter',
      'add',
      'dev',
      bridge,
      'prio',
      '2',
      'protocol',
      'ip',
      'parent',
      '1:',
      'u32',
      'match',
      'ip',
      'dport',
      '68',
      'ffff',
      'action',
      'csum',
      'ip',
      'and',
      'udp',
    ],
    'checksum',
  );

  const catchAll = (family: NftFamily): void => {
    rule(family, 'guest_output', ['iif', bridge, 'counter', 'reject'], 'reject-out', base);
    rule(family, 'guest_input', ['oif', bridge, 'counter', 'reject'], 'reject-in', base);
    rule(family, 'guest_cross', ['iif', bridge, 'oif', bridge, 'counter', 'accept'], 'cross-bridge', base);
  };
  catchAll('ip');
  if (hasIpv6(network) || network.ipv6) catchAll('ip6');

  const dev = forwardDevice(network);
  for (const ip of network.ips) {
    const block = ipBlock(network, ip);
    if (block === 'none') continue;
    const family: NftFamily = ip.family === 6 ? 'ip6' : 'ip';
    const subnet = subnetText(ip);
    const ctx = contextOf(network, ip);
    rule(
      family,
      'guest_output',
      [family, 'saddr', subnet, 'iif', bridge, ...(dev ? ['oifname', dev] : []), 'counter', 'accept'],
      'forward-out',
      ctx,
    );
    if (block === 'route') {
      rule(
        family,
        'guest_input',
        [family, 'daddr', subnet, ...(dev ? ['iifname', dev] : []), 'oif', bridge, 'counter', 'accept'],
        'forward-in',
        ctx,
      );
      continue;
    }
    rule(
      family,
      'guest_input',
      [
        ...(dev ? ['iifname', dev] : []),
        'oif',
        bridge,
        family,
        'daddr',
        subnet,
        'ct',
        'state',
        'related,established',
        'counter',
        'accept',
      ],
      'related-in',
      ctx,
    );

    const snat = snatAddress(network, ip);
    const ports = natPorts(network);
    const out = dev ? ['oifname', dev] : [];
    const translate = (proto: string | null): string[] => {
      if (snat) return ['counter', 'snat', 'to', proto ? `${snat}:${ports}` : snat];
      return ['counter', 'masquerade', ...(proto ? ['to', `:${ports}`] : [])];
    };
    const snatCtx = snat ? { to: snat } : {};
    rule(
      family,
      'guest_nat',
      [family, 'saddr', subnet, family, 'daddr', '!=', subnet, ...out, ...translate(null)],
      snat ? 'snat' : 'masquerade',
      { ...ctx, ...snatCtx },
    );
    for (const proto of ['udp', 'tcp']) {
      rule(
        family,
        'guest_nat',
        ['meta', 'l4proto', proto, family, 'saddr', subnet, family, 'daddr', '!=', subnet, ...out, ...translate(proto)],
        snat ? 'snat-ports' : 'masquerade-ports',
        { ...ctx, ...snatCtx, protocol: proto, ports },
      );
    }
    if (family === 'ip')
      rule(
        family,
        'guest_nat',
        [...out, family, 'saddr', subnet, family, 'daddr', '255.255.255.255/32', 'counter', 'return'],
        'no-masquerade-broadcast',
        { ...ctx, destination: '255.255.255.255/32' },
      );
    const multicast = family === 'ip' ? '224.0.0.0/24' : 'ff02::/16';
    rule(
      family,
      'guest_nat',
      [...out, family, 'saddr', subnet, family, 'daddr', multicast, 'counter', 'return'],
      'no-masquerade-multicast',
      { ...ctx, destination: multicast },
    );
  }
  return commands;
}

export function compileLibvirtNft(networks: readonly Network[], state: NftState | undefined): Command[] {
  const first = networks.find((n) => installsRules(n.forward.mode));
  const setup = first ? [...nftSetup('ip', state, first.name), ...nftSetup('ip6', state, first.name)] : [];
  return [...setup, ...networks.flatMap((n) => nftNetworkCommands(n))];
}
