// What a trace and a reachability matrix print: the JSON documents and the text, for `virtables trace`.
// Each rule on a path is told by its place and, through `Why`, by the network and purpose it serves.

import { formatHost, formatHostPort } from '../model/cidr.js';
import { pushAll } from '../model/lists.js';
import { renderTable } from '../write/table.js';
import { decidedShare, dependsOn, type Cell, type Matrix } from './matrix.js';
import { refText, ruleLine, ruleName, ruleText, ruleWhere, type CompiledRule } from './ruleset.js';
import type { Branches, Leg, Proto, Seen, Simulator, TraceResult } from './trace.js';
import type { Step } from './traverse.js';

/** The sentence for a rule on the packet's path. */
export type Why = (rule: Pick<CompiledRule, 'rule' | 'nft'>) => string;

// --- JSON -----------------------------------------------------------------------------------

function addr(sim: Simulator, a: bigint): string {
  return formatHost(sim.family, a);
}

function seenJson(sim: Simulator, s: Seen, proto: Proto) {
  return {
    src: addr(sim, s.src),
    dst: addr(sim, s.dst),
    sport: proto === 'icmp' ? null : s.sport,
    dport: proto === 'icmp' ? null : s.dport,
  };
}

function stepJson(sim: Simulator, s: Step, why: Why) {
  return {
    hook: s.hook,
    table: s.table,
    chain: s.chain,
    line: s.rule ? ruleLine(s.rule) : null,
    rule: s.rule ? ruleText(s.rule, sim.family) : null,
    action: s.action,
    why: s.rule ? why(s.rule) || s.detail : s.detail,
    detail: s.detail,
  };
}

function legJson(sim: Simulator, leg: Leg, proto: Proto, why: Why) {
  return {
    verdict: leg.verdict,
    reason: leg.reason,
    at: leg.at,
    rejectWith: leg.rejectWith,
    seen: leg.seen ? seenJson(sim, leg.seen, proto) : null,
    path: leg.events.flatMap((e) => (e.kind === 'rule' ? [stepJson(sim, e, why)] : [])),
    hops: leg.events.flatMap((e) => (e.kind === 'hop' ? [e.text] : [])),
    notes: leg.notes,
  };
}

/** Every way the undecided conditions went, and what each gave. */
function branchesJson(sim: Simulator, b: Branches | undefined, why: Why) {
  if (!b) return null;
  return {
    decided: b.decided,
    exceeded: b.exceeded,
    rules: b.rules.map((r) => ({
      line: ruleLine(r.rule),
      ...(r.rule.nft ? { path: ruleWhere(r.rule), handle: r.rule.nft.rule.handle } : {}),
      table: r.table,
      chain: r.chain,
      rule: refText(r.rule, sim.family),
      undecided: r.why,
      why: why(r.rule),
    })),
    paths: b.paths.map((p) => ({
      conditions: p.choices.map((c) => ({
        line: ruleLine(c.rule),
        ...(c.rule.nft ? { path: ruleWhere(c.rule) } : {}),
        hook: c.hook,
        reply: c.reply,
        matched: c.matched,
      })),
      request: p.request,
      reply: p.reply,
      outcome: p.outcome,
    })),
  };
}

export function traceJson(sim: Simulator, r: TraceResult, why: Why) {
  const req = legJson(sim, r.request, r.proto, why);
  return {
    verdict: r.request.verdict,
    reason: r.request.reason,
    packet: { from: r.from, to: r.to, proto: r.proto, ...seenJson(sim, r.packet, r.proto) },
    translated: req.seen,
    at: r.request.at,
    path: req.path,
    hops: req.hops,
    notes: req.notes,
    reply: r.reply ? legJson(sim, r.reply, r.proto, why) : null,
    branches: branchesJson(sim, r.branches, why),
  };
}

function cellJson(sim: Simulator, c: Cell, why: Why) {
  return {
    from: c.from,
    to: c.to,
    service: c.service,
    state: c.state,
    deliveredTo: c.deliveredTo,
    request: c.request,
    reply: c.reply,
    translated: c.translated,
    seen: c.seen ? seenJson(sim, c.seen, c.result.proto) : null,
    reason: c.reason,
    decidedBy: c.decidedBy ? stepJson(sim, c.decidedBy, why) : null,
    dependsOn: dependsOn(c),
    branches: branchesJson(sim, c.result.branches, why),
  };
}

export function matrixJson(sim: Simulator, m: Matrix, why: Why) {
  return {
    nodes: m.nodes,
    services: m.services.map((s) => s.label),
    share: decidedShare(m),
    cells: m.cells.map((c) => cellJson(sim, c, why)),
  };
}

// --- text -----------------------------------------------------------------------------------

function endpointText(sim: Simulator, name: string, a: bigint, port: number, proto: Proto): string {
  const where = proto === 'icmp' ? addr(sim, a) : formatHostPort(sim.family, a, port);
  return name === addr(sim, a) ? where : `${name} (${where})`;
}

function legText(sim: Simulator, leg: Leg, indent: string, why: Why): string[] {
  const out: string[] = [];
  for (const e of leg.events) {
    if (e.kind === 'hop') {
      out.push(`${indent}· ${e.text}`);
      continue;
    }
    const s = e;
    const where = `${s.table} ${s.chain}`;
    if (s.rule) {
      out.push(`${indent}${where}, ${ruleWhere(s.rule)}: ${ruleText(s.rule, sim.family)}`);
      const said = why(s.rule);
      const detail = s.detail && s.action !== 'jump' && s.action !== 'goto' && s.action !== 'accept' ? s.detail : null;
      if (said || detail) out.push(`${indent}    ${[said, detail].filter(Boolean).join(' — ')}`);
    } else {
      out.push(`${indent}${where}: ${s.detail ?? s.action}`);
    }
  }
  for (const n of leg.notes) out.push(`${indent}note: ${n}`);
  return out;
}

export function traceText(sim: Simulator, r: TraceResult, why: Why): string {
  const p = r.packet;
  const lines: string[] = [];
  const head = `${r.proto} ${endpointText(sim, r.from, p.src, p.sport, r.proto)} → ${endpointText(sim, r.to, p.dst, p.dport, r.proto)}`;
  lines.push(`${head}: ${r.request.verdict.toUpperCase()} — ${r.request.reason}`);
  const seen = r.request.seen;
  if (seen && (seen.src !== p.src || seen.dst !== p.dst || seen.sport !== p.sport || seen.dport !== p.dport)) {
    lines.push(
      `  arrives as ${r.proto === 'icmp' ? `${addr(sim, seen.src)} → ${addr(sim, seen.dst)}` : `${formatHostPort(sim.family, seen.src, seen.sport)} → ${formatHostPort(sim.family, seen.dst, seen.dport)}`} (after NAT)`,
    );
  }
  lines.push('  request:');
  pushAll(lines, legText(sim, r.request, '    ', why));
  if (r.reply) {
    lines.push(`  reply: ${r.reply.verdict.toUpperCase()} — ${r.reply.reason}`);
    pushAll(lines, legText(sim, r.reply, '    ', why));
  }
  const b = r.branches;
  if (b && !b.exceeded) {
    lines.push(`  undecided conditions, ${b.paths.length} ways followed:`);
    for (const p of b.paths)
      lines.push(
        `    ${p.choices.map((c) => `${ruleName(c.rule)}${c.reply ? ' (reply)' : ''} ${c.matched ? 'matches' : 'does not match'}`).join(', ')} → ${p.outcome}`,
      );
  }
  return lines.join('\n') + '\n';
}

const SYMBOL: Readonly<Record<Cell['state'], string>> = {
  ok: 'ok',
  elsewhere: '→',
  'one-way': 'one-way',
  dropped: 'dropped',
  rejected: 'rejected',
  unreachable: 'no route',
  unknown: 'unknown',
};

export function matrixText(m: Matrix): string {
  const out: string[] = [];
  const byKey = new Map(m.cells.map((c) => [`${c.service} ${c.from} ${c.to}`, c]));
  let natted = false;
  const elsewhere: Cell[] = [];
  for (const s of m.services) {
    const rows: string[][] = [];
    for (const from of m.nodes) {
      rows.push([
        from,
        ...m.nodes.map((to) => {
          if (from === to) return '—';
          const c = byKey.get(`${s.label} ${from} ${to}`)!;
          if (c.translated && c.state === 'ok') natted = true;
          if (c.state === 'elsewhere') elsewhere.push(c);
          const on = dependsOn(c);
          if (on) return `depends:${on.join(',')}`;
          return c.state === 'elsewhere'
            ? `→ ${c.deliveredTo}`
            : `${SYMBOL[c.state]}${c.translated && c.state === 'ok' ? '*' : ''}`;
        }),
      ]);
    }
    out.push(renderTable({ head: [s.label, ...m.nodes.map((n) => `→ ${n}`)] }, rows));
  }
  const legend = [
    'rows send, columns receive. ok: the connection works (first packet and reply); one-way: the reply is lost;',
    'rejected/dropped: the firewall stops the first packet; no route: it cannot be sent that way.',
  ];
  if (natted) legend.push('*: addresses translated on the way (NAT).');
  if (elsewhere.length > 0) {
    const e = elsewhere[0]!;
    legend.push(
      `→ NODE: the connection works, but with NODE: a DNAT sends it there (e.g. ${e.service} ${e.from} → ${e.to} is delivered to ${e.deliveredTo}${e.decidedBy?.rule ? ` by ${ruleWhere(e.decidedBy.rule)}` : ''}).`,
    );
  }
  const share = decidedShare(m);
  const lines = new Map<number | string, string>();
  for (const c of m.cells)
    for (const r of dependsOn(c) ? c.result.branches!.rules : [])
      lines.set(ruleLine(r.rule) ?? ruleWhere(r.rule), r.why);
  for (const [line, text] of lines)
    legend.push(`depends:${line}: the verdict depends on rule ${line} (${text}); trace --from --to shows each way`);
  if (share.depends > 0 || share.unknown > 0)
    legend.push(
      `decided: ${share.decided} of ${m.cells.length} cells; ${share.depends} depend on named rules; ${share.unknown} unknown`,
    );
  const unknown = m.cells.filter((c) => c.state === 'unknown' && dependsOn(c) === null);
  if (unknown.length > 0)
    legend.push(`unknown: ${unknown[0]!.reason}${unknown.length > 1 ? ` (and ${unknown.length - 1} more)` : ''}`);
  return `${out.join('\n')}\n${legend.join('\n')}\n`;
}
