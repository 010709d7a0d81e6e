// Port forwards written in nft: the `dnat` statements a nat-type prerouting base chain reaches
// (through jump, goto and verdict maps), with the guest address and port they send to — the nft
// side of dnat.ts, read the same way, so the audit probes a forward whichever tool wrote it.
// Tables iptables-nft manages are left out: their rules come from iptables-save (dnat.ts).

import { parseHost, type HostAddress, type IpFamily } from '../model/cidr.js';
import type { NftChain, NftExpr, NftNat, NftRule, NftRuleset, NftStatement, NftTable } from '../model/nft.js';
import type { PortForward } from './dnat.js';

export type NftPortForward = PortForward<NftRule>;

const value = (e: NftExpr): string | number | null =>
  e.kind === 'value' && typeof e.value !== 'boolean' ? e.value : null;

/** The first number of a value, a range or a set of them. */
function firstNumber(e: NftExpr): number | null {
  switch (e.kind) {
    case 'value':
      return typeof e.value === 'number' ? e.value : null;
    case 'range':
      return firstNumber(e.low);
    case 'set': {
      for (const i of e.items) {
        const n = firstNumber(i.kind === 'elem' ? i.value : i);
        if (n !== null) return n;
      }
      return null;
    }
    default:
      return null;
  }
}

interface Matched {
  proto: 'tcp' | 'udp' | null;
  dport: number | null;
  address: string | null;
  inIface: string | null;
}

/** What a rule's matches before its NAT statement say of the packets it forwards. */
function matchedOf(statements: readonly NftStatement[], family: IpFamily): Matched {
  const m: Matched = { proto: null, dport: null, address: null, inIface: null };
  for (const s of statements) {
    if (s.kind !== 'match' || s.op !== '==') continue;
    const l = s.left;
    const v = value(s.right);
    if (
      l.kind === 'payload' &&
      (l.protocol === 'tcp' || l.protocol === 'udp' || l.protocol === 'th') &&
      l.field === 'dport'
    ) {
      if (l.protocol !== 'th') m.proto = l.protocol;
      m.dport ??= firstNumber(s.right);
    } else if (
      (l.kind === 'meta' && l.key === 'l4proto') ||
      (l.kind === 'payload' && (l.field === 'protocol' || l.field === 'nexthdr'))
    ) {
      if (v === 'tcp' || v === 6) m.proto = 'tcp';
      else if (v === 'udp' || v === 17) m.proto = 'udp';
    } else if (
      l.kind === 'payload' &&
      l.protocol === (family === 4 ? 'ip' : 'ip6') &&
      l.field === 'daddr' &&
      typeof v === 'string'
    ) {
      const a = parseHost(v);
      if (a && a.family === family) m.address = v;
    } else if (
      l.kind === 'meta' &&
      (l.key === 'iifname' || l.key === 'iif') &&
      typeof v === 'string' &&
      !v.endsWith('*')
    ) {
      m.inIface = v;
    }
  }
  return m;
}

/** The guests a dnat statement sends to: its address, or each address of an anonymous map keyed by port. */
function targetsOf(
  nat: NftNat,
  family: IpFamily,
): Array<{ to: HostAddress; toPort: number | null; dport: number | null }> {
  const host = (e: NftExpr): HostAddress | null => {
    const v = value(e.kind === 'range' ? e.low : e);
    const a = typeof v === 'string' ? parseHost(v) : null;
    return a && a.family === family ? a : null;
  };
  const port = nat.port ? firstNumber(nat.port) : null;
  if (!nat.addr) return [];
  if (nat.addr.kind !== 'map') {
    const to = host(nat.addr);
    return to ? [{ to, toPort: port, dport: null }] : [];
  }
  // `dnat to tcp dport map { 2222 : 192.168.122.10 }`: one forward per element (the simulator says it cannot follow a
  // map).
  const data = nat.addr.data;
  if (data.kind !== 'set') return [];
  return data.items.flatMap((item) => {
    const mapping = item.kind === 'elem' ? item.value : item;
    if (mapping.kind !== 'mapping') return [];
    const target = mapping.value.kind === 'concat' ? mapping.value.items : [mapping.value];
    const to = target[0] ? host(target[0]) : null;
    const toPort = target[1] ? firstNumber(target[1]) : port;
    return to ? [{ to, toPort, dport: firstNumber(mapping.key) }] : [];
  });
}

/** The chains a rule sends packets on to: jump, goto, and the verdict maps' jumps. */
function nextChains(rule: NftRule): string[] {
  const out: string[] = [];
  for (const s of rule.statements) {
    if (s.kind === 'verdict' && (s.verdict === 'jump' || s.verdict === 'goto') && s.target) out.push(s.target);
    if (s.kind === 'vmap' && s.data.kind === 'set') {
      for (const i of s.data.items) {
        const m = i.kind === 'elem' ? i.value : i;
        if (m.kind === 'mapping' && m.value.kind === 'verdict' && m.value.target) out.push(m.value.target);
      }
    }
  }
  return out;
}

/**
 * DNAT rules reachable from nat prerouting base chains of `family`'s tables (and inet's), in
 * listing order. `skip`: tables whose rules come from elsewhere (iptables-nft's, read from iptables-save).
 */
export function nftPortForwards(
  ruleset: NftRuleset,
  family: IpFamily,
  skip: (t: NftTable) => boolean = () => false,
): NftPortForward[] {
  const out: NftPortForward[] = [];
  for (const table of ruleset.tables) {
    if (
      !(table.family === 'inet' || table.family === (family === 4 ? 'ip' : 'ip6')) ||
      table.flags.includes('dormant') ||
      skip(table)
    )
      continue;
    const chains = new Map(table.chains.map((c) => [c.name, c]));
    const visited = new Set<NftChain>();
    const walk = (chain: NftChain): void => {
      if (visited.has(chain)) return;
      visited.add(chain);
      for (const rule of chain.rules) {
        for (const next of nextChains(rule)) {
          const c = chains.get(next);
          if (c) walk(c);
        }
        const nat = rule.statements.find((s): s is NftNat => s.kind === 'nat' && s.nat === 'dnat');
        // `dnat ip6 to …` in an inet table does not touch IPv4 packets.
        if (!nat || (nat.family !== null && (nat.family === 'ip') !== (family === 4))) continue;
        const m = matchedOf(rule.statements, family);
        for (const t of targetsOf(nat, family)) {
          out.push({
            rule,
            proto: m.proto ?? 'tcp',
            dport: t.dport ?? m.dport,
            address: m.address,
            inIface: m.inIface,
            to: t.to,
            toPort: t.toPort,
          });
        }
      }
    };
    for (const c of table.chains) if (c.base?.type === 'nat' && c.base.hook === 'prerouting') walk(c);
  }
  return out;
}
