// What the rules present for one network amount to: isolated, nat, route — or partial when
// some of a mode's rules are missing — and how two modes differ, in the engine's words.

import { match } from 'ts-pattern';
import { why, type Purpose } from '../engine/why.js';
import type { Family } from '../model/dump.js';
import type { Explained, NetworkInfo } from './attribute.js';

export type Verdict = 'isolated' | 'nat' | 'route' | 'partial' | 'none' | 'xen' | 'docker';

export interface NetworkVerdict {
  readonly verdict: Verdict;
  /** Purposes present, in a fixed order. */
  readonly purposes: Purpose[];
  /** For `partial`: what the closest mode still needs. */
  readonly missing: Purpose[];
  readonly summary: string;
}

/** What every network libvirt firewalls has, in every era: DHCP and DNS to the host, the catch-alls. */
const CORE: readonly Purpose[] = ['dhcp-in', 'dns-in', 'cross-bridge', 'reject-out', 'reject-in'];
/** The same in ip6tables: no IPv4 DHCP there (DHCPv6, udp 547, only since libvirt 1.0.1, so not required). */
const CORE6: readonly Purpose[] = ['dns-in', 'cross-bridge', 'reject-out', 'reject-in'];
/** libvirt's nftables backend adds no guest ↔ host rules (its table is its own, default-accept). */
const NFT_CORE: readonly Purpose[] = ['cross-bridge', 'reject-out', 'reject-in'];
const NAT_EXTRA: readonly Purpose[] = ['forward-out', 'related-in', 'masquerade'];
const ROUTE_EXTRA: readonly Purpose[] = ['forward-out', 'forward-in'];
const FORWARDING: readonly Purpose[] = [
  'forward-out',
  'forward-in',
  'related-in',
  'masquerade',
  'masquerade-ports',
  'snat',
  'snat-ports',
];

const ORDER: readonly Purpose[] = [
  'chain-setup',
  'dhcp-in',
  'dhcp-out',
  'dns-in',
  'dns-out',
  'tftp-in',
  'tftp-out',
  'dhcpv6-in',
  'dhcpv6-out',
  'cross-bridge',
  'reject-out',
  'reject-in',
  'forward-out',
  'related-in',
  'forward-in',
  'masquerade',
  'masquerade-ports',
  'snat',
  'snat-ports',
  'no-masquerade-broadcast',
  'no-masquerade-multicast',
  'checksum',
  'xen-vif-in',
  'xen-vif-out',
  'xen-vif-dhcp',
  'xen-masquerade',
  'xen-antispoof-policy',
  'xen-antispoof-flush',
  'xen-antispoof',
  'xen-antispoof-dom0',
  'probe',
];

export function sortPurposes(purposes: Iterable<Purpose>): Purpose[] {
  const set = new Set(purposes);
  return ORDER.filter((p) => set.has(p));
}

function summaryOf(
  verdict: Verdict,
  network: NetworkInfo,
  missing: readonly Purpose[],
  purposes: readonly Purpose[],
  families: ReadonlySet<Family> | undefined,
  backend: 'iptables' | 'nft',
): string {
  const onlyV6 = families !== undefined && families.size > 0 && !families.has('ipv4');
  if (verdict === 'none' && onlyV6 && network.subnets.length > 0 && !network.subnets.some((c) => c.family === 6)) {
    return 'no IPv6 rules: the network has no IPv6 address, so libvirt adds none to ip6tables (its IPv4 rules are in iptables-save)';
  }
  const on = network.bridge ? ` on ${network.bridge}` : '';
  return (
    match(verdict)
      // libvirt's nftables backend has no input rules: DHCP and DNS pass only if no host table drops them.
      .with('isolated', () =>
        backend === 'nft'
          ? `isolated (host-only): guests${on} reach each other, nothing is forwarded in or out; libvirt's nft table has no rules for their DHCP and DNS to the host (the host's own input chains decide)`
          : `isolated (host-only): guests${on} reach each other and the host (DHCP, DNS), nothing is forwarded in or out`,
      )
      .with(
        'nat',
        () => `NAT: guests${on} reach outside with the host's address; outside cannot start connections to them`,
      )
      .with(
        'route',
        () => `routed: guests${on} reach outside and outside reaches them, with their own addresses (no NAT)`,
      )
      .with(
        'partial',
        () =>
          `partial or damaged: ${purposes.length > 0 ? `has ${purposes.join(', ')}` : 'has no rules of its own'}${missing.length > 0 ? `, lacks ${missing.join(', ')}` : ''}`,
      )
      .with(
        'none',
        () =>
          `no rules in this dump: stopped, a mode libvirt adds no rules for (open, bridge), or rules kept elsewhere (nftables)`,
      )
      .with('xen', () =>
        `Xen guests ${network.vifs.join(', ') || ''}: forwarding accepted per guest interface${purposes.includes('xen-masquerade') ? ', everything leaving the uplink masqueraded' : ''}`.replace(
          '  ',
          ' ',
        ),
      )
      .with('docker', () => `Docker's bridge${on}: rules managed by Docker`)
      .exhaustive()
  );
}

/**
 * A network's verdict from the purposes of the rules explained as its own (iptables and nft
 * alike). IPv4 decides when the dump has any of its IPv4 rules; an ip6tables dump alone is
 * judged as IPv6 (no DHCP there). `families`: the dumps' families, for saying why a network
 * has no rules in them.
 */
export function verdictOf(
  network: NetworkInfo,
  explained: ReadonlyArray<Pick<Explained, 'network' | 'purpose'> & { readonly family?: Family }>,
  backend: 'iptables' | 'nft' = 'iptables',
  families?: ReadonlySet<Family>,
): NetworkVerdict {
  const all = explained.filter((e) => e.network === network.name && e.purpose !== null);
  const v4 = all.filter((e) => e.family !== 'ipv6');
  const judged = v4.length > 0 ? v4 : all;
  const core = backend === 'nft' ? NFT_CORE : v4.length > 0 ? CORE : CORE6;
  const purposes = sortPurposes(all.map((e) => e.purpose!));
  const judgedPurposes = sortPurposes(judged.map((e) => e.purpose!));
  const has = (p: Purpose): boolean => judgedPurposes.includes(p);
  const lacking = (list: readonly Purpose[]): Purpose[] =>
    list.filter((p) => !(p === 'masquerade' ? has('masquerade') || has('snat') : has(p)));
  let verdict: Verdict;
  let missing: Purpose[] = [];
  if (network.owner === 'docker') verdict = 'docker';
  else if (network.owner === 'xen' || purposes.some((p) => p.startsWith('xen-'))) verdict = 'xen';
  else if (purposes.length === 0) verdict = 'none';
  else {
    const nat = lacking([...core, ...NAT_EXTRA]);
    const route = lacking([...core, ...ROUTE_EXTRA]);
    const isolatedMissing = lacking(core);
    const forwards = FORWARDING.some(has);
    if (nat.length === 0 && !has('forward-in')) verdict = 'nat';
    else if (route.length === 0 && !has('masquerade') && !has('snat') && !has('related-in')) verdict = 'route';
    else if (isolatedMissing.length === 0 && !forwards) verdict = 'isolated';
    else {
      verdict = 'partial';
      // the mode it comes closest to
      const closest = forwards ? (has('forward-in') ? route : nat) : isolatedMissing;
      missing = closest;
    }
  }
  let summary = summaryOf(verdict, network, missing, purposes, families, backend);
  // IPv6 on a nat network is routed, not NATed (without <nat ipv6='yes'/>): say so rather than call it damaged.
  const v6 = all.filter((e) => e.family === 'ipv6').map((e) => e.purpose!);
  if (verdict === 'nat' && v6.includes('forward-in') && !v6.includes('masquerade'))
    summary += '; its IPv6 is routed, not NATed (outside reaches the guests over IPv6)';
  const def = network.definition;
  if (v4.length === 0 && verdict === 'route' && def?.kind === 'libvirt' && def.forward.mode === 'nat')
    summary += " — the IPv6 side of a nat network: libvirt routes IPv6 rather than NAT it (no <nat ipv6='yes'/>)";
  return { verdict, purposes, missing, summary };
}

/** "nat = isolated + forward-out, related-in, masquerade: …" — the purposes one network has over another. */
export function modeDifference(
  from: { name: string; verdict: NetworkVerdict },
  to: { name: string; verdict: NetworkVerdict },
): string {
  const before = new Set(from.verdict.purposes);
  const after = new Set(to.verdict.purposes);
  const added = to.verdict.purposes.filter((p) => !before.has(p));
  const removed = from.verdict.purposes.filter((p) => !after.has(p));
  const label = (v: NetworkVerdict): string => (v.verdict === 'isolated' ? 'host-only' : v.verdict);
  const parts: string[] = [];
  if (added.length > 0) parts.push(`+ ${added.join(', ')}`);
  if (removed.length > 0) parts.push(`− ${removed.join(', ')}`);
  const head = `${to.name} (${label(to.verdict)}) = ${from.name} (${label(from.verdict)}) ${parts.join(' ') || '(same rules)'}`;
  const meanings = [
    ...added.map((p) => `${p}: ${why(p)}`),
    ...removed.map((p) => `without ${p}: no longer "${why(p)}"`),
  ];
  return meanings.length > 0 ? `${head}. ${meanings.join('; ')}.` : `${head}.`;
}
