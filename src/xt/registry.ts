// Which extensions iptables 1.8.9 has, by name and family, and the names of well-known
// extensions it does not ship (xtables-addons and older releases): those are carried
// through verbatim and reported "not validated" instead of refused as typos.

import type { Family } from '../model/dump.js';
import { MATCHES } from './matches.js';
import { MORE_MATCHES } from './matches-more.js';
import { REST_MATCHES } from './matches-rest.js';
import type { Extension } from './spec.js';
import { TARGETS } from './targets.js';
import { MORE_TARGETS } from './targets-more.js';

function index(list: readonly Extension[]): Map<string, Extension[]> {
  const byName = new Map<string, Extension[]>();
  for (const e of list) byName.set(e.name, [...(byName.get(e.name) ?? []), e]);
  return byName;
}

const ALL_MATCHES: readonly Extension[] = [...MATCHES, ...MORE_MATCHES, ...REST_MATCHES];
const matchIndex = index(ALL_MATCHES);
const ALL_TARGETS: readonly Extension[] = [...TARGETS, ...MORE_TARGETS];
const targetIndex = index(ALL_TARGETS);

/** `-m icmpv6` and `-m ipv6-icmp` load icmp6 (xtables_find_match's special case). */
const MATCH_ALIASES: Readonly<Record<string, string>> = { icmpv6: 'icmp6', 'ipv6-icmp': 'icmp6' };

function pick(list: readonly Extension[] | undefined, family: Family): Extension | undefined {
  return list?.find((e) => e.family === undefined || e.family === family);
}

/** Each name looked up, by kind and family (at most 10,000 names each: a dump may invent any). */
const byKind = <V>(): { m4: Map<string, V>; m6: Map<string, V>; t4: Map<string, V>; t6: Map<string, V> } => ({
  m4: new Map(),
  m6: new Map(),
  t4: new Map(),
  t6: new Map(),
});
const found = byKind<Extension | null>();
const elsewhere = byKind<boolean>();

function mapFor<V>(maps: ReturnType<typeof byKind<V>>, kind: 'match' | 'target', family: Family): Map<string, V> {
  if (kind === 'match') return family === 'ipv6' ? maps.m6 : maps.m4;
  return family === 'ipv6' ? maps.t6 : maps.t4;
}

function listOf(kind: 'match' | 'target', name: string): readonly Extension[] | undefined {
  return kind === 'match' ? matchIndex.get(MATCH_ALIASES[name] ?? name) : targetIndex.get(name);
}

function find(kind: 'match' | 'target', name: string, family: Family): Extension | undefined {
  const map = mapFor(found, kind, family);
  let e = map.get(name);
  if (e === undefined) {
    e = pick(listOf(kind, name), family) ?? null;
    if (map.size < 10_000) map.set(name, e);
  }
  return e ?? undefined;
}

export function findMatch(name: string, family: Family): Extension | undefined {
  return find('match', name, family);
}

export function findTarget(name: string, family: Family): Extension | undefined {
  return find('target', name, family);
}

/** The extension exists, but only for the other family (`-m icmp` in ip6tables). */
export function otherFamilyOnly(kind: 'match' | 'target', name: string, family: Family): boolean {
  const map = mapFor(elsewhere, kind, family);
  let only = map.get(name);
  if (only === undefined) {
    const list = listOf(kind, name);
    only = list !== undefined && list.length > 0 && !list.some((e) => e.family === undefined || e.family === family);
    if (map.size < 10_000) map.set(name, only);
  }
  return only;
}

export const STANDARD_TARGETS: ReadonlySet<string> = new Set(['ACCEPT', 'DROP', 'RETURN', 'QUEUE']);

export const FOREIGN_TARGETS: ReadonlySet<string> = new Set([
  'ACCOUNT',
  'CHAOS',
  'DELUDE',
  'DHCPMAC',
  'DNETMAP',
  'ECHO',
  'IPMARK',
  'LOGMARK',
  'PROTO',
  'RAWDNAT',
  'RAWSNAT',
  'STEAL',
  'SYSRQ',
  'TARPIT',
  'TEE2',
  'IMQ',
  'ROUTE',
  'IPV4OPTSSTRIP',
  'XOR',
  'SAME',
  'MIRROR',
  'TTL2',
  'FULLCONENAT',
  'NETFLOW',
  'FLOWOFFLOAD',
]);

export function allExtensions(): readonly Extension[] {
  return [...ALL_MATCHES, ...ALL_TARGETS];
}

export const ALL_MATCH_NAMES: readonly string[] = [...new Set(ALL_MATCHES.map((e) => e.name))];
export const ALL_TARGET_NAMES: readonly string[] = [...new Set(ALL_TARGETS.map((e) => e.name))];
