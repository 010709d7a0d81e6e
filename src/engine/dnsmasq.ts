// What libvirt's dnsmasq does for a network, era by era: whether an isolated network's guests
// get a default route, whether their queries for outside names are forwarded upstream or
// refused, and whether `<dns enable='no'/>` is understood. A release is often known only as a
// range (a dump's rules fit libvirt 0.8.7–1.0.0): then the answer may be "depends".

import type { Network } from '../model/network.js';
import type { Boundary } from './libvirt-legacy.js';
import { compareVersions, parseVersion } from './version.js';

/** The boundaries of libvirt's dnsmasq configuration, oldest first. */
export const DNSMASQ_BOUNDARIES: readonly Boundary[] = [
  {
    feature: 'isolated networks: empty dhcp-option=3 (guests get no default route)',
    since: '0.8.7',
    evidence: 'estimated',
    source:
      'bridge_driver.c passes --dhcp-option=3 for forward type NONE in 2011 sources (before 0.9.4) and in the first networkxml2argv test vectors; the single-address 0.6–0.8 sources do not (dnsmasq then offers the host as router)',
  },
  {
    feature: 'isolated networks: no-resolv (outside names refused)',
    since: '0.9.4',
    evidence: 'verified',
    source:
      "NEWS 0.9.4 (docs/news-2011.html.in, Aug 03 2011): 'network: don't forward DNS requests from isolated networks (Laine Stump)'; bridge_driver.c: forward.type == NONE writes dhcp-option=3 and no-resolv",
  },
  {
    feature: "<dns enable='no'/> (no DNS server, DHCP only)",
    since: '2.2.0',
    evidence: 'verified',
    source: "formatnetwork: 'The dns element can have an optional enable attribute Since 2.2.0'",
  },
];

/** The releases an era may be: `from` up to (not including) `below`; `below` null: any later one. */
export interface VersionRange {
  readonly from: string;
  readonly below: string | null;
  /** For messages: `libvirt 0.6.3`, `libvirt 0.6.3–0.8.2`, `libvirt 5.1+`. */
  readonly label: string;
}

export type Tristate = 'yes' | 'no' | 'depends';

function boundary(prefix: string): Boundary {
  const b = DNSMASQ_BOUNDARIES.find((x) => x.feature.startsWith(prefix));
  if (!b) throw new Error(`internal: no dnsmasq boundary '${prefix}'`);
  return b;
}

/** Does every release of the range have the behaviour that starts at `since`? */
export function rangeHas(range: VersionRange, since: string): Tristate {
  const from = parseVersion(range.from);
  if (!from) throw new Error(`internal: bad version '${range.from}'`);
  if (compareVersions(from, since) >= 0) return 'yes';
  const below = range.below ? parseVersion(range.below) : null;
  if (below && compareVersions(below, since) <= 0) return 'no';
  return 'depends';
}

/** One release. */
export function exactly(version: string): VersionRange {
  const v = parseVersion(version);
  if (!v) throw new Error(`internal: bad version '${version}'`);
  const next = [...v.parts];
  while (next.length < 3) next.push(0);
  next[2] = (next[2] ?? 0) + 1;
  return { from: version, below: next.join('.'), label: `libvirt ${version}` };
}

export const NO_RESOLV_SINCE = boundary('isolated networks: no-resolv').since;
export const NO_ROUTER_SINCE = boundary('isolated networks: empty dhcp-option=3').since;
export const DNS_ENABLE_SINCE = boundary("<dns enable='no'/>").since;

export interface OutsideNames {
  /** forwards: outside names resolve through the host; refuses: dnsmasq answers only local names. */
  readonly answer: 'forwards' | 'refuses' | 'depends';
  /** Why, in a clause: "libvirt 0.6.3's dnsmasq forwards queries to the host's resolvers (…)". */
  readonly because: string;
}

/** Does the host's dnsmasq resolve outside names for guests of this isolated network? */
export function isolatedOutsideNames(network: Network | null, range: VersionRange): OutsideNames {
  const upstream = network?.dns.forwarders.filter((f) => f.addr !== null) ?? [];
  const all = upstream.find((f) => f.domain === null);
  if (all)
    return {
      answer: 'forwards',
      because: `the network's <dns><forwarder addr='${all.addr}'/> makes dnsmasq forward every name it cannot answer to ${all.addr}`,
    };
  const some = upstream[0];
  if (some)
    return {
      answer: 'forwards',
      because: `the network's <dns><forwarder domain='${some.domain}' addr='${some.addr}'/> makes dnsmasq forward names under ${some.domain} to ${some.addr}`,
    };
  const has = rangeHas(range, NO_RESOLV_SINCE);
  if (has === 'yes')
    return {
      answer: 'refuses',
      because: `${range.label}'s dnsmasq has no-resolv on an isolated network (since libvirt ${NO_RESOLV_SINCE}): outside names are refused, only local ones answer`,
    };
  if (has === 'no')
    return {
      answer: 'forwards',
      because: `${range.label}'s dnsmasq forwards the queries it cannot answer to the host's resolvers (isolated networks get no-resolv only from libvirt ${NO_RESOLV_SINCE} on)`,
    };
  return {
    answer: 'depends',
    because: `whether outside names resolve depends on the libvirt release (${range.label} fits the rules): before ${NO_RESOLV_SINCE} dnsmasq forwards the queries to the host's resolvers, from ${NO_RESOLV_SINCE} on it has no-resolv and refuses them`,
  };
}

/** Does dnsmasq offer the host as router to guests of an isolated network? */
export function isolatedRouter(range: VersionRange): Tristate {
  const none = rangeHas(range, NO_ROUTER_SINCE);
  return none === 'yes' ? 'no' : none === 'no' ? 'yes' : 'depends';
}

/** Does libvirt understand `<dns enable='no'/>` in every release of the range? */
export function understandsDnsEnable(range: VersionRange): Tristate {
  return rangeHas(range, DNS_ENABLE_SINCE);
}
