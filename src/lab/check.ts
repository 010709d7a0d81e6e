// Checking a sheet: every assertion against the evidence, each with its verdict, the message
// that explains it (the packet's fate and the rule that decided it, or the missing and extra
// rules), the sheet's hint when it fails, and the traces behind it.

import { UsageError } from '../model/errors.js';
import type { Evidence } from './evidence.js';
import type { ReadBytes } from '../input/disk.js';
import { firewallsOf, type Firewall } from './firewall.js';
import { evaluateReach, reachContext, type ReachContext, type TracedLeg } from './reach.js';
import { evaluateRules, type RulesOutcome } from './rulesets.js';
import type { Assertion, World } from './sheet.js';

export type Status = 'pass' | 'fail' | 'undecided';

export interface AssertionResult {
  readonly line: number;
  readonly col: number;
  /** The assertion as written. */
  readonly text: string;
  readonly kind: 'reach' | 'rules';
  readonly status: Status;
  /** What was seen, in a word or a short phrase. */
  readonly observed: string;
  readonly message: string;
  /** The sheet's advice, shown when the assertion fails. */
  readonly hint: string | null;
  /** The firewall a reachability assertion was decided on. */
  readonly firewall: string | null;
  readonly legs: TracedLeg[];
  readonly rules: RulesOutcome | null;
  readonly notes: string[];
}

export interface SheetResult {
  readonly file: string;
  readonly title: string | null;
  readonly about: string | null;
  readonly era: string;
  readonly results: AssertionResult[];
}

function failed(a: Assertion, message: string): AssertionResult {
  return {
    line: a.at.line,
    col: a.at.col,
    text: a.text,
    kind: a.kind,
    status: 'fail',
    observed: 'not checked',
    message,
    hint: a.hint,
    firewall: null,
    legs: [],
    rules: null,
    notes: [],
  };
}

export interface CheckOptions {
  /** Missing evidence is the caller's mistake (`virtables check` without --dump): throw, do not fail. */
  readonly missingIsUsage?: boolean;
}

export function checkSheet(world: World, evidence: Evidence, read: ReadBytes, options: CheckOptions = {}): SheetResult {
  const base = { file: world.file, title: world.title, about: world.about, era: world.era.label };
  const missing = (why: string): void => {
    if (options.missingIsUsage) throw new UsageError(`check: ${why}`);
  };
  if (world.problems.length > 0) {
    missing(world.problems.join('; '));
    return { ...base, results: world.assertions.map((a) => failed(a, `cannot check: ${world.problems.join('; ')}`)) };
  }

  let contexts: ReachContext[] | string | null = null;
  const reachContexts = (): ReachContext[] | string => {
    if (contexts !== null) return contexts;
    const host = firewallsOf(world, evidence, read);
    if (!host.ok) {
      missing(host.why);
      return (contexts = host.why);
    }
    const routers = new Map<string, { ok: true; firewall: Firewall } | { ok: false; why: string }>();
    for (const guest of world.guestFirewalls.keys()) {
      const f = firewallsOf(world, evidence, read, guest);
      routers.set(guest, f.ok ? { ok: true, firewall: f.variants[0]! } : { ok: false, why: f.why });
    }
    return (contexts = host.variants.map((v) => reachContext(world, v, routers)));
  };

  const results = world.assertions.map((a): AssertionResult => {
    if (a.kind === 'rules') {
      const r = evaluateRules(world, evidence, read, a);
      if (r.observed === 'no answer') missing(r.message);
      return {
        line: a.at.line,
        col: a.at.col,
        text: a.text,
        kind: 'rules',
        status: r.pass ? 'pass' : 'fail',
        observed: r.observed,
        message: r.message,
        hint: a.hint,
        firewall: null,
        legs: [],
        rules: r,
        notes: r.notes,
      };
    }
    const ctxs = reachContexts();
    if (typeof ctxs === 'string') return failed(a, `cannot check: ${ctxs}`);
    const outcomes = ctxs.map((ctx) => ({ ctx, o: evaluateReach(ctx, a) }));
    const bad = outcomes.find((x) => !x.o.pass) ?? outcomes[0]!;
    const several = ctxs.length > 1;
    const refused = [...new Set(ctxs.flatMap((c) => c.firewall.refused))];
    const status: Status = bad.o.pass ? 'pass' : bad.o.undecided ? 'undecided' : 'fail';
    return {
      line: a.at.line,
      col: a.at.col,
      text: a.text,
      kind: 'reach',
      status,
      observed: bad.o.observed,
      message: `${several && !bad.o.pass ? `on ${bad.ctx.firewall.describe}: ${bad.o.message}` : bad.o.message}${!bad.o.pass && refused.some((r) => r.includes('iptables refuses it')) ? `; the answer's commands did not all run: ${refused.filter((r) => r.includes('iptables refuses it')).join('; ')}` : ''}`,
      hint: a.hint,
      firewall: bad.ctx.firewall.describe,
      legs: bad.o.legs,
      rules: null,
      notes: [...refused, ...bad.o.notes],
    };
  });
  return { ...base, results };
}

export function passed(result: SheetResult): boolean {
  return result.results.every((r) => r.status === 'pass');
}
