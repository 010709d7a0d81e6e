// The reachability matrix: host, every guest and outside, each as sender and receiver, for a
// handful of services — the seed lab's connectivity figures, computed by tracing every pair.

import { UsageError } from '../model/errors.js';
import { ruleLine, ruleWhere } from './ruleset.js';
import type { Endpoint } from './topology.js';
import type { Step } from './traverse.js';
import { trace, type Proto, type Seen, type Simulator, type TraceResult, type Verdict } from './trace.js';

export interface Service {
  readonly proto: Proto;
  readonly dport: number;
  readonly label: string;
}

export const DEFAULT_SERVICES: readonly Service[] = [
  { proto: 'icmp', dport: 0, label: 'icmp' },
  { proto: 'tcp', dport: 22, label: 'tcp/22' },
  { proto: 'tcp', dport: 80, label: 'tcp/80' },
  { proto: 'udp', dport: 53, label: 'udp/53' },
];

/** `icmp,tcp/22,udp/53` */
export function parseServices(text: string): Service[] {
  return text
    .split(',')
    .filter(Boolean)
    .map((s) => {
      if (s === 'icmp') return { proto: 'icmp', dport: 0, label: 'icmp' };
      const m = /^(tcp|udp)\/(\d{1,5})$/.exec(s);
      if (!m || Number(m[2]) > 65535) throw new UsageError(`--services: '${s}' is not icmp, tcp/PORT or udp/PORT`);
      return { proto: m[1] as 'tcp' | 'udp', dport: Number(m[2]), label: s };
    });
}

/**
 * How one cell reads: the connection works, it works but with another node (a DNAT sent the
 * packet elsewhere: `elsewhere`), the first packet's fate, or a lost reply.
 */
export type CellState = 'ok' | 'elsewhere' | 'one-way' | Exclude<Verdict, 'delivered'>;

export interface Cell {
  readonly from: string;
  readonly to: string;
  readonly service: string;
  readonly state: CellState;
  readonly request: Verdict;
  readonly reply: Verdict | null;
  /** The source or destination was rewritten on the way (NAT). */
  readonly translated: boolean;
  readonly seen: Seen | null;
  /** The rule that stopped the first packet (or its reply), if one did. */
  readonly decidedBy: Step | null;
  /** The node that got the packet when it is not the one addressed (a DNAT sent it there); else null. */
  readonly deliveredTo: string | null;
  readonly reason: string;
  readonly result: TraceResult;
}

export interface Matrix {
  readonly nodes: readonly string[];
  readonly services: readonly Service[];
  readonly cells: readonly Cell[];
}

/** Host, the guests, outside — those with an address of the dump's family. */
export function matrixNodes(sim: Simulator): string[] {
  const has = (e: Endpoint): boolean =>
    e.addresses.some((a) => a.address.family === sim.family) || e.extra.some((a) => a.family === sim.family);
  const of = (kind: Endpoint['kind']): string[] =>
    sim.topology.endpoints.filter((e) => e.kind === kind && has(e)).map((e) => e.name);
  return ['host', ...of('guest'), ...of('outside')];
}

/**
 * The lines an undecided cell depends on (nft JSON, one line: the rule's path) (null: decided, or unknown for another
 * reason).
 */
export function dependsOn(c: Cell): Array<number | string> | null {
  const b = c.result.branches;
  if (c.state !== 'unknown' || !b || b.decided || b.exceeded) return null;
  return [...new Set(b.rules.map((r) => ruleLine(r.rule) ?? ruleWhere(r.rule)))];
}

/** Cells decided, depending on named rules, and unknown for other reasons. */
export function decidedShare(m: Matrix): {
  readonly decided: number;
  readonly depends: number;
  readonly unknown: number;
} {
  const depends = m.cells.filter((c) => dependsOn(c) !== null).length;
  const unknown = m.cells.filter((c) => c.state === 'unknown').length - depends;
  return { decided: m.cells.length - depends - unknown, depends, unknown };
}

function cellOf(r: TraceResult, service: string): Cell {
  const req = r.request;
  const works: CellState =
    r.reply?.verdict === 'delivered' ? 'ok' : r.reply?.verdict === 'unknown' ? 'unknown' : 'one-way';
  const deliveredTo = req.verdict === 'delivered' && req.at !== null && req.at !== r.to ? req.at : null;
  const state: CellState =
    req.verdict !== 'delivered' ? req.verdict : works === 'ok' && deliveredTo !== null ? 'elsewhere' : works;
  const seen = req.seen;
  const translated =
    seen !== null &&
    (seen.src !== r.packet.src ||
      seen.dst !== r.packet.dst ||
      seen.sport !== r.packet.sport ||
      seen.dport !== r.packet.dport);
  const decidedBy = req.decidedBy ?? r.reply?.decidedBy ?? null;
  const reason = state === 'one-way' ? `reply: ${r.reply?.reason ?? '?'}` : req.reason;
  const why = state === 'elsewhere' ? `delivered to ${deliveredTo}, not ${r.to}: ${req.reason}` : reason;
  return {
    from: r.from,
    to: r.to,
    service,
    state,
    request: req.verdict,
    reply: r.reply?.verdict ?? null,
    translated,
    seen,
    decidedBy,
    deliveredTo,
    reason: why,
    result: r,
  };
}

/** Traces every ordered pair of distinct nodes for every service. */
export function reachabilityMatrix(
  sim: Simulator,
  services: readonly Service[] = DEFAULT_SERVICES,
  nodes: readonly string[] = matrixNodes(sim),
): Matrix {
  const cells: Cell[] = [];
  for (const service of services) {
    for (const from of nodes) {
      for (const to of nodes) {
        if (from === to) continue;
        const r = trace(sim, { from, to, proto: service.proto, dport: service.dport });
        cells.push(cellOf(r, service.label));
      }
    }
  }
  return { nodes, services, cells };
}
