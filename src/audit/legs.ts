// Reading a traced connection: which rule let a leg through a table, which stopped it. Kept
// apart from probes.ts (which loads the simulator) so checks import nothing heavy.

import type { Rule } from '../model/dump.js';
import type { Leg, TraceResult } from '../sim/trace.js';
import type { Step } from '../sim/traverse.js';

export function ruleSteps(leg: Leg): Step[] {
  return leg.events.filter((e): e is Step => e.kind === 'rule');
}

/** The step that let the leg through `table` (at `hook`): an ACCEPT rule or the policy; null when nothing did. */
export function acceptedBy(leg: Leg, table = 'filter', hook?: string): Step | null {
  const steps = ruleSteps(leg).filter((s) => s.table === table && (hook === undefined || s.hook === hook));
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i]!;
    if (s.action === 'accept' || (s.action === 'policy' && /ACCEPT/.test(s.detail ?? ''))) return s;
  }
  return null;
}

/** The model rule behind a step, when a rule (not a policy) took it. */
export function stepRule(step: Step | null): Rule | null {
  return step?.rule?.rule ?? null;
}

/** Did the request arrive at the endpoint it was sent to? */
export function arrived(r: TraceResult, endpoint: string): boolean {
  return r.request.verdict === 'delivered' && r.request.at === endpoint;
}
