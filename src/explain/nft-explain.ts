// Tying each rule of an nft ruleset to the network it belongs to and the software that put it
// there: libvirt's `ip`/`ip6 libvirt_network` tables rule by rule, with the purposes and sentences
// the engine writes for `--flavor libvirt-nft` (src/engine/libvirt-nft.ts, through why()); the
// tables firewalld (`inet firewalld`) and Docker (`ip`/`ip6 docker-bridges`) make, by owner; the
// rest is the host's. Networks nobody defined are inferred from libvirt's table.

import { cidrEquals, formatCidr, parseCidr, type Cidr } from '../model/cidr.js';
import type { NftChain, NftExpr, NftRule, NftStatement, NftTable } from '../model/nft.js';
import { canonicalRule } from '../model/nft-canonical.js';
import { why, type Purpose, type WhyContext } from '../engine/why.js';
import { NFT_TABLE } from '../engine/libvirt-nft.js';
import type { NetworkInfo, Owner } from './attribute.js';
import { describeNftRule } from './nft-describe.js';

export interface NftExplained {
  readonly rule: NftRule;
  readonly chain: NftChain;
  /** 1-based place in its chain. */
  readonly position: number;
  readonly network: string | null;
  readonly owner: Owner;
  readonly purpose: Purpose | null;
  readonly why: string;
}

/** Who made an nft table, by its family and name. */
export function nftTableOwner(t: NftTable): Owner {
  if ((t.family === 'ip' || t.family === 'ip6') && t.name === NFT_TABLE) return 'libvirt';
  if (t.family === 'inet' && (t.name === 'firewalld' || t.name === 'firewalld_policy_drop')) return 'firewalld';
  if ((t.family === 'ip' || t.family === 'ip6') && t.name === 'docker-bridges') return 'docker';
  return 'host';
}

// ---------------------------------------------------------------------------------------------
// libvirt's rules, by shape (the commands of nftNetworkCommands and nftSetup)

interface Shape {
  iif: string | null;
  oif: string | null;
  iifname: string | null;
  oifname: string | null;
  saddr: Cidr | null;
  daddr: Cidr | null;
  notDaddr: Cidr | null;
  daddrHost: string | null;
  l4proto: string | null;
  established: boolean;
  verdict: string | null;
  target: string | null;
  reject: boolean;
  nat: Extract<NftStatement, { kind: 'nat' }> | null;
  other: number;
}

const str = (e: NftExpr): string | null => (e.kind === 'value' && typeof e.value === 'string' ? e.value : null);
/** A value or `low-high` range as text (`1024-65535`, `10.0.0.1-10.0.0.9`); null for anything else. */
const valueText = (e: NftExpr | null): string | null =>
  e === null
    ? null
    : e.kind === 'value'
      ? String(e.value)
      : e.kind === 'range' && e.low.kind === 'value' && e.high.kind === 'value'
        ? `${e.low.value}-${e.high.value}`
        : null;

function cidrOf(e: NftExpr): Cidr | null {
  if (e.kind === 'prefix' && e.addr.kind === 'value') return parseCidr(`${e.addr.value}/${e.len}`);
  return null;
}

function shapeOf(rule: NftRule): Shape {
  const s: Shape = {
    iif: null,
    oif: null,
    iifname: null,
    oifname: null,
    saddr: null,
    daddr: null,
    notDaddr: null,
    daddrHost: null,
    l4proto: null,
    established: false,
    verdict: null,
    target: null,
    reject: false,
    nat: null,
    other: 0,
  };
  for (const st of rule.statements) {
    if (st.kind === 'counter') continue;
    if (st.kind === 'verdict') {
      s.verdict = st.verdict;
      s.target = st.target;
    } else if (st.kind === 'reject') s.reject = true;
    else if (st.kind === 'nat') s.nat = st;
    else if (
      st.kind === 'match' &&
      st.left.kind === 'meta' &&
      st.op === '==' &&
      ['iif', 'oif', 'iifname', 'oifname', 'l4proto'].includes(st.left.key)
    ) {
      (s as unknown as Record<string, string | null>)[st.left.key] = str(st.right);
    } else if (
      st.kind === 'match' &&
      st.left.kind === 'payload' &&
      (st.left.protocol === 'ip' || st.left.protocol === 'ip6') &&
      (st.left.field === 'saddr' || st.left.field === 'daddr')
    ) {
      const c = cidrOf(st.right);
      if (st.left.field === 'saddr' && st.op === '==' && c) s.saddr = c;
      else if (st.op === '==' && c) s.daddr = c;
      else if (st.op === '!=' && c) s.notDaddr = c;
      else if (st.op === '==' && str(st.right)) s.daddrHost = str(st.right);
      else s.other++;
    } else if (
      st.kind === 'match' &&
      st.left.kind === 'ct' &&
      st.left.key === 'state' &&
      st.op === 'in' &&
      st.right.kind === 'list'
    ) {
      const states = st.right.items.map(str);
      if (states.length === 2 && states.includes('established') && states.includes('related')) s.established = true;
      else s.other++;
    } else s.other++;
  }
  return s;
}

/** libvirt's purpose for one rule of its libvirt_network table, with the context the engine gives why(). */
export interface NftClassified {
  readonly purpose: Purpose;
  readonly context: WhyContext;
  readonly bridge: string | null;
  readonly subnet: Cidr | null;
}

export function classifyNftRule(rule: NftRule, table: NftTable): NftClassified | null {
  if (nftTableOwner(table) !== 'libvirt') return null;
  const s = shapeOf(canonicalRule(rule));
  if (s.other > 0) return null;
  const tableName = `${table.family} ${table.name}`;
  if (rule.chain === 'forward' && s.verdict === 'jump' && s.target && !s.iif && !s.oif) {
    return {
      purpose: 'chain-setup',
      context: { table: tableName, chain: s.target, parent: 'forward' },
      bridge: null,
      subnet: null,
    };
  }
  const subnet = (c: Cidr | null): { subnet?: string } => (c ? { subnet: formatCidr(c) } : {});
  const dev = (d: string | null): { dev?: string } => (d ? { dev: d } : {});
  const only = (...keys: Array<keyof Shape>): boolean =>
    (
      ['iif', 'oif', 'iifname', 'oifname', 'saddr', 'daddr', 'notDaddr', 'daddrHost', 'l4proto', 'established'] as const
    ).every((k) => keys.includes(k) === Boolean(s[k]));
  const made = (purpose: Purpose, bridge: string | null, c: Cidr | null, context: WhyContext): NftClassified => ({
    purpose,
    context: { ...(bridge ? { bridge } : {}), ...context },
    bridge,
    subnet: c,
  });
  switch (rule.chain) {
    case 'guest_output':
      if (s.reject && only('iif')) return made('reject-out', s.iif, null, {});
      if (s.verdict === 'accept' && s.saddr && s.iif && (only('saddr', 'iif') || only('saddr', 'iif', 'oifname')))
        return made('forward-out', s.iif, s.saddr, { ...subnet(s.saddr), ...dev(s.oifname) });
      break;
    case 'guest_input':
      if (s.reject && only('oif')) return made('reject-in', s.oif, null, {});
      if (
        s.verdict === 'accept' &&
        s.oif &&
        s.daddr &&
        s.established &&
        (only('oif', 'daddr', 'established') || only('oif', 'daddr', 'established', 'iifname'))
      )
        return made('related-in', s.oif, s.daddr, { ...subnet(s.daddr), ...dev(s.iifname) });
      if (s.verdict === 'accept' && s.oif && s.daddr && (only('oif', 'daddr') || only('oif', 'daddr', 'iifname')))
        return made('forward-in', s.oif, s.daddr, { ...subnet(s.daddr), ...dev(s.iifname) });
      break;
    case 'guest_cross':
      if (s.verdict === 'accept' && s.iif && s.iif === s.oif && only('iif', 'oif'))
        return made('cross-bridge', s.iif, null, {});
      break;
    case 'guest_nat': {
      if (!s.saddr) break;
      if (
        s.verdict === 'return' &&
        (only('saddr', 'daddrHost') || only('saddr', 'daddrHost', 'oifname')) &&
        s.daddrHost === '255.255.255.255'
      )
        return made('no-masquerade-broadcast', null, s.saddr, {
          ...subnet(s.saddr),
          ...dev(s.oifname),
          destination: '255.255.255.255/32',
        });
      if (s.verdict === 'return' && s.daddr && (only('saddr', 'daddr') || only('saddr', 'daddr', 'oifname')))
        return made('no-masquerade-multicast', null, s.saddr, {
          ...subnet(s.saddr),
          ...dev(s.oifname),
          destination: formatCidr(s.daddr),
        });
      const n = s.nat;
      if (!n || !s.notDaddr || !cidrEquals(s.notDaddr, s.saddr)) break;
      const ports = valueText(n.port);
      const base = { ...subnet(s.saddr), ...dev(s.oifname) };
      if (n.nat === 'masquerade' && !n.addr) {
        if (ports && s.l4proto) return made('masquerade-ports', null, s.saddr, { ...base, protocol: s.l4proto, ports });
        if (!ports && !s.l4proto) return made('masquerade', null, s.saddr, base);
      }
      if (n.nat === 'snat' && n.addr) {
        const to = valueText(n.addr);
        if (to && ports && s.l4proto)
          return made('snat-ports', null, s.saddr, { ...base, to, protocol: s.l4proto, ports });
        if (to && !ports && !s.l4proto) return made('snat', null, s.saddr, { ...base, to });
      }
      break;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Networks

/** libvirt's bridges and subnets seen in its nft tables that no given network covers. */
export function inferNftNetworks(tables: readonly NftTable[], given: readonly NetworkInfo[]): NetworkInfo[] {
  const known = new Set(given.map((n) => n.bridge).filter((b): b is string => b !== null));
  const coveredSubnets = given.flatMap((n) => n.subnets);
  const bridges = new Map<string, Cidr[]>();
  const natSubnets: Cidr[] = [];
  for (const t of tables) {
    for (const c of t.chains) {
      for (const r of c.rules) {
        const k = classifyNftRule(r, t);
        if (!k) continue;
        if (k.bridge && !known.has(k.bridge)) {
          const list = bridges.get(k.bridge) ?? [];
          if (k.subnet && !list.some((x) => cidrEquals(x, k.subnet!))) list.push(k.subnet);
          bridges.set(k.bridge, list);
        } else if (!k.bridge && k.subnet && !natSubnets.some((x) => cidrEquals(x, k.subnet!)))
          natSubnets.push(k.subnet);
      }
    }
  }
  const inferred: NetworkInfo[] = [...bridges].map(([bridge, subnets]) => ({
    name: bridge,
    origin: 'inferred',
    owner: 'libvirt',
    bridge,
    subnets,
    vifs: [],
    definition: null,
  }));
  const covered = [...coveredSubnets, ...inferred.flatMap((n) => n.subnets)];
  for (const subnet of natSubnets) {
    if (!covered.some((c) => cidrEquals(c, subnet)))
      inferred.push({
        name: formatCidr(subnet),
        origin: 'inferred',
        owner: 'libvirt',
        bridge: null,
        subnets: [subnet],
        vifs: [],
        definition: null,
      });
  }
  return inferred;
}

function networkOf(k: NftClassified | null, rule: NftRule, networks: readonly NetworkInfo[]): NetworkInfo | null {
  if (k?.bridge) {
    const n = networks.find((x) => x.bridge === k.bridge);
    if (n) return n;
  }
  if (k?.subnet) {
    const n = networks.find((x) => x.subnets.some((s) => cidrEquals(s, k.subnet!)));
    if (n) return n;
  }
  // Any interface the rule names.
  for (const s of rule.statements) {
    if (s.kind === 'match' && s.left.kind === 'meta' && ['iif', 'oif', 'iifname', 'oifname'].includes(s.left.key)) {
      const name = str(s.right);
      const n = name ? networks.find((x) => x.bridge === name) : undefined;
      if (n) return n;
    }
  }
  return null;
}

/** Every rule of these nft tables, explained, in ruleset order. */
export function explainNftTables(tables: readonly NftTable[], networks: readonly NetworkInfo[]): NftExplained[] {
  const out: NftExplained[] = [];
  for (const t of tables) {
    const owner = nftTableOwner(t);
    for (const c of t.chains) {
      c.rules.forEach((rule, i) => {
        const k = classifyNftRule(rule, t);
        const network = owner === 'libvirt' || owner === 'host' ? networkOf(k, rule, networks) : null;
        let sentence: string | undefined;
        const context = k ? { ...k.context, ...(network ? { network: network.name } : {}) } : null;
        out.push({
          rule,
          chain: c,
          position: i + 1,
          network: network?.name ?? null,
          owner,
          purpose: k?.purpose ?? null,
          get why() {
            return (sentence ??= k && context ? why(k.purpose, context) : describeNftRule(rule, c));
          },
        });
      });
    }
  }
  return out;
}
