// Port forwards in a dump: the DNAT rules nat PREROUTING reaches (through user chains), with
// the guest address and port they send to. Shared by the audit's probes, the diagram and
// attribution, so a port forward is read one way everywhere.

import { formatHost, type HostAddress, type IpFamily } from '../model/cidr.js';
import type { Dump, Rule } from '../model/dump.js';
import { parseNatRange } from './targets.js';

/** A port forward; R is the rule that writes it (an iptables rule here, an nft rule in nft-dnat.ts). */
export interface PortForward<R = Rule> {
  readonly rule: R;
  readonly proto: 'tcp' | 'udp';
  /** The first port the rule matches (null: any). */
  readonly dport: number | null;
  /** The rule's own destination when it names a single host (`-d 198.51.100.10/32`, `ip daddr 198.51.100.10`). */
  readonly address: string | null;
  /** The device it comes in on (`-i eth0`, `iifname "eth0"`), when it names one exactly. */
  readonly inIface: string | null;
  /** The first address of `--to-destination` or `dnat to` (a range's first: what a trace shows). */
  readonly to: HostAddress;
  readonly toPort: number | null;
}

function firstPort(rule: Rule): number | null {
  for (const m of rule.matches) {
    for (const o of m.options) {
      if (o.negated || !['--dport', '--destination-port', '--dports', '--destination-ports'].includes(o.name)) continue;
      const n = Number(/^\d+/.exec(o.args[0]?.value ?? '')?.[0]);
      if (Number.isInteger(n) && n > 0) return n;
    }
  }
  return null;
}

/** The guest a DNAT rule sends to, or null when its target is not a DNAT to an address. */
export function dnatTarget(rule: Rule, family: IpFamily): { to: HostAddress; toPort: number | null } | null {
  if (rule.target?.name !== 'DNAT') return null;
  const text = rule.target.options.find((o) => o.name === '--to-destination' || o.name === '--to')?.args[0]?.value;
  const range = text ? parseNatRange(text, family) : null;
  if (!range || range.addrLo === null) return null;
  return { to: { family, value: range.addrLo }, toPort: range.portLo };
}

/** DNAT rules reachable from nat PREROUTING (through user chains), in order. */
export function portForwards(dump: Dump, family: IpFamily): PortForward[] {
  const nat = dump.tables.find((t) => t.name === 'nat');
  if (!nat) return [];
  const chains = new Map(nat.chains.map((c) => [c.name, c]));
  const out: PortForward[] = [];
  const visited = new Set<string>();
  const walk = (name: string): void => {
    if (visited.has(name)) return;
    visited.add(name);
    for (const rule of chains.get(name)?.rules ?? []) {
      const target = rule.target?.name;
      if (target && chains.has(target)) walk(target);
      const to = dnatTarget(rule, family);
      if (!to) continue;
      const d = rule.destination;
      const single = d && !d.negated && d.prefix === (family === 4 ? 32 : 128) ? formatHost(family, d.network) : null;
      const i = rule.inInterface;
      const inIface = i && !i.negated && !i.name.endsWith('+') ? i.name : null;
      out.push({
        rule,
        proto: rule.protocol?.name === 'udp' ? 'udp' : 'tcp',
        dport: firstPort(rule),
        address: single,
        inIface,
        ...to,
      });
    }
  };
  walk('PREROUTING');
  return out;
}
