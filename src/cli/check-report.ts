// How `check` and `lab check` show a sheet's results: text for people (the verdict, the
// message, the hint, and for a failed reachability assertion the packet's trace), JSON for
// tools (docs/expect.md documents it).

import { formatHost } from '../model/cidr.js';
import type { AssertionResult, SheetResult } from '../lab/check.js';
import { stepRuleShown, type TracedLeg } from '../lab/reach.js';
import type { Leg, TraceEvent } from '../sim/trace.js';
import type { Style } from './style.js';
import { pushAll } from '../model/lists.js';

function eventText(e: TraceEvent): string {
  if (e.kind === 'hop') return e.text;
  const s = e;
  const rule = s.rule ? ` '${stepRuleShown(s.rule)}'` : '';
  return `${s.table} ${s.chain}: ${s.action}${rule}${s.detail ? ` (${s.detail})` : ''}`;
}

function legLines(title: string, leg: Leg, s: Style): string[] {
  return [
    `${title}: ${leg.verdict === 'delivered' ? s.green(leg.verdict) : s.red(leg.verdict)}`,
    ...leg.events.map((e) => `  ${eventText(e)}`),
  ];
}

function traceLines(t: TracedLeg, s: Style): string[] {
  const out = [s.dim(`${t.title} (on ${t.firewall})`)];
  pushAll(
    out,
    legLines('  request', t.result.request, s).map((l) => `  ${l}`),
  );
  if (t.result.reply)
    pushAll(
      out,
      legLines('  reply', t.result.reply, s).map((l) => `  ${l}`),
    );
  return out;
}

const MARK: Readonly<Record<AssertionResult['status'], string>> = {
  pass: 'PASS',
  fail: 'FAIL',
  undecided: 'UNDECIDED',
};

export function resultLines(r: AssertionResult, s: Style, verbose: boolean): string[] {
  const mark =
    r.status === 'pass' ? s.green(MARK.pass) : r.status === 'fail' ? s.red(MARK.fail) : s.yellow(MARK.undecided);
  const out = [`  ${mark}  ${s.dim(`${r.line}:${r.col}`)}  ${r.text}`];
  const indent = (text: string): string => `        ${text}`;
  out.push(indent(r.message));
  if (r.status !== 'pass' && r.hint)
    out.push(...`hint: ${r.hint}`.split('\n').map((l, i) => indent(s.cyan(i === 0 ? l : `      ${l}`))));
  for (const n of r.notes) out.push(indent(s.yellow(`note: ${n}`)));
  if (r.rules && (r.status !== 'pass' || verbose)) {
    for (const m of r.rules.missing) out.push(indent(`missing  ${m.table === 'filter' ? '' : `${m.table} `}${m.rule}`));
    for (const x of r.rules.extra)
      out.push(
        indent(
          `extra    ${x.table === 'filter' ? '' : `${x.table} `}${x.rule}${x.note ? s.dim(`   (${x.note})`) : ''}`,
        ),
      );
  }
  if (r.legs.length > 0 && (r.status !== 'pass' || verbose))
    for (const t of r.legs) pushAll(out, traceLines(t, s).map(indent));
  return out;
}

export function summaryLine(results: readonly AssertionResult[]): string {
  const n = (st: AssertionResult['status']): number => results.filter((r) => r.status === st).length;
  const parts = [`${n('pass')} passed`, `${n('fail')} failed`];
  if (n('undecided') > 0) parts.push(`${n('undecided')} undecided`);
  return `${results.length} assertion${results.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

export function sheetText(result: SheetResult, s: Style, verbose: boolean): string {
  const head = `${s.bold(result.file)}${result.title ? ` — ${result.title}` : ''} ${s.dim(`(era ${result.era})`)}`;
  return [head, ...result.results.flatMap((r) => resultLines(r, s, verbose)), summaryLine(result.results), ''].join(
    '\n',
  );
}

function legJson(leg: Leg, family: 4 | 6) {
  return {
    verdict: leg.verdict,
    reason: leg.reason,
    at: leg.at,
    seen: leg.seen && {
      src: formatHost(family, leg.seen.src),
      dst: formatHost(family, leg.seen.dst),
      sport: leg.seen.sport,
      dport: leg.seen.dport,
    },
    decidedBy: leg.decidedBy && {
      table: leg.decidedBy.table,
      chain: leg.decidedBy.chain,
      action: leg.decidedBy.action,
      rule: leg.decidedBy.rule ? stepRuleShown(leg.decidedBy.rule) : null,
    },
    events: leg.events.map((e) =>
      e.kind === 'hop'
        ? { hop: e.text }
        : {
            table: e.table,
            chain: e.chain,
            action: e.action,
            rule: e.rule ? stepRuleShown(e.rule) : null,
            detail: e.detail,
          },
    ),
    notes: leg.notes,
  };
}

export function resultJson(r: AssertionResult) {
  return {
    line: r.line,
    col: r.col,
    text: r.text,
    kind: r.kind,
    status: r.status,
    observed: r.observed,
    message: r.message,
    hint: r.hint,
    firewall: r.firewall,
    notes: r.notes,
    traces: r.legs.map((t) => ({
      title: t.title,
      firewall: t.firewall,
      request: legJson(t.result.request, t.result.family),
      reply: t.result.reply && legJson(t.result.reply, t.result.family),
    })),
    rules: r.rules && {
      expectedFrom: r.rules.expectedFrom,
      observedFrom: r.rules.observedFrom,
      missing: r.rules.missing,
      extra: r.rules.extra,
      misordered: r.rules.misordered,
    },
  };
}

export function sheetJson(result: SheetResult) {
  const count = (st: AssertionResult['status']): number => result.results.filter((r) => r.status === st).length;
  return {
    file: result.file,
    title: result.title,
    era: result.era,
    passed: count('pass'),
    failed: count('fail'),
    undecided: count('undecided'),
    results: result.results.map(resultJson),
  };
}
