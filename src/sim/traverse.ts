// Netfilter's walk for one hook: the stages src/sim/hooks.ts planned (base chains by priority,
// conntrack, the NAT core), each base chain's rules with jumps, gotos, RETURN and the policy,
// and the NAT bindings nat chains make for a connection's first packet (and undo on its
// replies). Where the order of equal-priority stages is not known, every order is walked.

import { formatHost } from '../model/cidr.js';
import { candidates } from './compile.js';
import { changeSet } from './ipset.js';
import { UnknownAtRuntime } from './matches.js';
import {
  ST_DNAT,
  ST_INVALID,
  ST_SNAT,
  ST_UNTRACKED,
  undecided,
  type Flow,
  type Hook,
  type MatchCtx,
} from './packet.js';
import {
  ruleWhere,
  type BaseChain,
  type CompiledChain,
  type CompiledRule,
  type HookPlan,
  type HookStage,
  type Ruleset,
  type TieGroup,
} from './ruleset.js';
import type { CompiledTarget, NatRange } from './targets.js';

/**
 * Which address the nat table changes at a hook: destination before routing, source after. Compared, not looked up in
 * a record: a record read by a key that varies is a megamorphic keyed load, and every NAT decision made several.
 */
const manipOf = (hook: Hook): 'dst' | 'src' => (hook === 'PREROUTING' || hook === 'OUTPUT' ? 'dst' : 'src');

/** A hook's stages, read by name for the same reason. */
function stagesOf(plan: HookPlan, hook: Hook): readonly HookStage[] {
  switch (hook) {
    case 'PREROUTING':
      return plan.PREROUTING;
    case 'INPUT':
      return plan.INPUT;
    case 'FORWARD':
      return plan.FORWARD;
    case 'OUTPUT':
      return plan.OUTPUT;
    case 'POSTROUTING':
      return plan.POSTROUTING;
  }
}

export type StepAction =
  | 'jump'
  | 'goto'
  | 'return'
  | 'end'
  | 'accept'
  | 'drop'
  | 'reject'
  | 'nat'
  | 'mark'
  | 'notrack'
  | 'continue'
  | 'policy'
  | 'unknown';

/** A routing or link event between hooks ("routing: forward … out of eth0"). */
export interface Hop {
  readonly kind: 'hop';
  readonly text: string;
}

/** One thing that happened in a chain: a rule that matched and acted, or the chain's end/policy. */
export interface Step {
  readonly kind: 'rule';
  readonly hook: Hook;
  readonly table: string;
  readonly chain: string;
  readonly rule: CompiledRule | null;
  readonly action: StepAction;
  /** e.g. `policy ACCEPT`, `DNAT: destination now 192.168.100.11:80`, `back to FORWARD`. */
  detail: string | null;
}

export type HookOutcome =
  | { readonly kind: 'accept' }
  | { readonly kind: 'drop'; readonly step: Step }
  | { readonly kind: 'reject'; readonly step: Step; readonly with: string }
  /** `branches`: when it depends on an order no input fixes, what each order does. */
  | {
      readonly kind: 'unknown';
      readonly step: Step;
      readonly why: string;
      readonly branches?: ReadonlyArray<{ readonly order: string; readonly outcome: HookOutcome }>;
    };

/** What the host knows that NAT targets need: addresses of its devices. */
export interface NatHost {
  /** The address MASQUERADE picks on `iface` for `dst` (null: none, the packet is dropped). */
  masqueradeAddress(iface: string, dst: bigint): bigint | null;
  /** The address REDIRECT sends to for a packet that came in on `iface` (null: none). */
  redirectAddress(iface: string): bigint | null;
  loopback: bigint;
}

/** The mutable state of one direction of a traced connection. */
export interface Walker {
  readonly ruleset: Ruleset;
  readonly ctx: MatchCtx;
  readonly flow: Flow;
  /** The packet is the first of a new connection (nat table consulted). */
  readonly isNew: boolean;
  /** State bit conntrack gives this packet (NEW, ESTABLISHED, RELATED, INVALID). */
  readonly stateBit: number;
  /** Conntrack has attached an entry already (a looped-back packet keeps it). */
  ctAttached: boolean;
  /** Where steps are recorded (the leg's event list, shared with routing hops); null: not recorded. */
  readonly steps: Array<Step | Hop> | null;
  /** What was assumed on the way (rate limits, NAT ranges). */
  readonly notes: string[];
  readonly host: NatHost;
  /** The jump stack, shared by every walk of a simulator (walks never nest). */
  readonly stack: JumpStack;
}

/** Jump stack as parallel arrays: a jump allocates nothing. */
export interface JumpStack {
  readonly chains: CompiledChain[];
  readonly lists: Array<readonly CompiledRule[]>;
  readonly next: number[];
  /**
   * Every chain entered since the built-in one and not yet left (a goto extends its caller's frame): the first
   * `pathLen` entries; those after them are left over. A count, not the array's length: setting an array's length is
   * a call into the runtime, and every walk and every return would make one.
   */
  readonly path: CompiledChain[];
  pathLen: number;
  /** The chains on the path while it is longer than PATH_SCAN (a short path is scanned); empty otherwise. */
  readonly onPath: Set<CompiledChain>;
  /** Where in `path` the frame pushed at each depth begins. */
  readonly pathAt: number[];
}

export function jumpStack(): JumpStack {
  return { chains: [], lists: [], next: [], path: [], pathLen: 0, onPath: new Set(), pathAt: [] };
}

/** Paths up to this long are scanned for loops; longer ones are kept in a set too (no quadratic walk). */
const PATH_SCAN = 16;

/** Leaves the frames above `depth`: their chains are no longer on the path. */
function unwind(stack: JumpStack, depth: number): void {
  const keep = stack.pathAt[depth]!;
  if (stack.pathLen > PATH_SCAN) {
    if (keep <= PATH_SCAN) stack.onPath.clear();
    else for (let k = keep; k < stack.pathLen; k++) stack.onPath.delete(stack.path[k]!);
  }
  stack.pathLen = keep;
}

/** Starts a walk's path at its built-in chain. */
function startPath(stack: JumpStack, builtin: CompiledChain): void {
  if (stack.onPath.size > 0) stack.onPath.clear();
  stack.path[0] = builtin;
  stack.pathLen = 1;
}

function enterPath(stack: JumpStack, chain: CompiledChain): void {
  const { path, onPath } = stack;
  const n = stack.pathLen;
  path[n] = chain;
  stack.pathLen = n + 1;
  if (n < PATH_SCAN) return;
  if (n === PATH_SCAN) for (let k = 0; k <= n; k++) onPath.add(path[k]!);
  else onPath.add(chain);
}

function isOnPath(stack: JumpStack, chain: CompiledChain): boolean {
  const n = stack.pathLen;
  if (n > PATH_SCAN) return stack.onPath.has(chain);
  const path = stack.path;
  for (let k = 0; k < n; k++) if (path[k] === chain) return true;
  return false;
}

function note(w: Walker, text: string): void {
  if (!w.notes.includes(text)) w.notes.push(text);
}

// No depth limit: the kernel's jump stack holds one entry per user chain and a table whose chains
// loop (by -j or -g) from a hook is refused with ELOOP (mark_source_chains), so a walk ends
// without one. A loop here means a file the kernel would not load, and ends the walk as unknown.

function ctStateFor(w: Walker): number {
  if (w.flow.untracked) return ST_UNTRACKED;
  return w.stateBit | (w.flow.snat ? ST_SNAT : 0) | (w.flow.dnat ? ST_DNAT : 0);
}

/**
 * A chain's result. Every kind has every field (null where it has no use for it), so every result has one shape: the
 * walk's callers read the `kind` of whatever came back, and five shapes there made that read megamorphic.
 */
type ChainResult =
  | { readonly kind: 'accept'; readonly step: null; readonly with: null; readonly why: null; readonly target: null }
  | { readonly kind: 'drop'; readonly step: Step; readonly with: null; readonly why: null; readonly target: null }
  | { readonly kind: 'reject'; readonly step: Step; readonly with: string; readonly why: null; readonly target: null }
  | { readonly kind: 'unknown'; readonly step: Step; readonly with: null; readonly why: string; readonly target: null }
  | {
      readonly kind: 'nat';
      readonly step: Step;
      readonly with: null;
      readonly why: null;
      readonly target: CompiledTarget;
    };

const dropped = (step: Step): ChainResult => ({ kind: 'drop', step, with: null, why: null, target: null });
const rejected = (step: Step, withText: string): ChainResult => ({
  kind: 'reject',
  step,
  with: withText,
  why: null,
  target: null,
});
const undetermined = (step: Step, why: string): ChainResult => ({
  kind: 'unknown',
  step,
  with: null,
  why,
  target: null,
});
const natBy = (step: Step, target: CompiledTarget): ChainResult => ({
  kind: 'nat',
  step,
  with: null,
  why: null,
  target,
});

function record(
  steps: Array<Step | Hop> | null,
  hook: Hook,
  chain: CompiledChain,
  rule: CompiledRule | null,
  action: StepAction,
  detail: string | null,
): Step | null {
  if (steps === null) return null;
  const s: Step = { kind: 'rule', hook, table: chain.table, chain: chain.name, rule, action, detail };
  steps.push(s);
  return s;
}

/** A step that decides must exist even when nothing is recorded. */
function decisive(
  steps: Array<Step | Hop> | null,
  hook: Hook,
  chain: CompiledChain,
  rule: CompiledRule | null,
  action: StepAction,
  detail: string | null,
): Step {
  return (
    record(steps, hook, chain, rule, action, detail) ?? {
      kind: 'rule',
      hook,
      table: chain.table,
      chain: chain.name,
      rule,
      action,
      detail,
    }
  );
}

/** Walks a built-in chain and whatever it jumps to; returns the table's verdict for the packet. */
export function runChain(w: Walker, hook: Hook, builtin: CompiledChain): ChainResult {
  const c = w.ctx;
  const steps = w.steps;
  const { chains, lists, next: resume, path, pathAt } = w.stack;
  startPath(w.stack, builtin);
  let depth = 0;
  let chain = builtin;
  let list = candidates(builtin.index, c);
  let i = 0;
  for (;;) {
    if (i >= list.length) {
      if (depth === 0) {
        if (chain !== builtin)
          record(steps, hook, chain, null, 'end', `end of chain: ${builtin.name} policy ${builtin.policy}`);
        return policyResult(builtin, steps, hook);
      }
      depth--;
      unwind(w.stack, depth);
      record(steps, hook, chain, null, 'end', steps ? `end of chain: back to ${chains[depth]!.name}` : null);
      chain = chains[depth]!;
      list = lists[depth]!;
      i = resume[depth]!;
      continue;
    }
    const r = list[i++]!;
    const x = c.memory.explorer;
    if (x !== null) {
      // A rule that only counts or logs decides nothing: its undecided conditions are not followed.
      // An nft rule whose action virtables cannot evaluate (queue, an xt target) is unknown, not a condition.
      x.rule = r.target.kind === 'continue' || (r.nft !== null && r.target.kind === 'unknown') ? null : r;
      x.chain = chain;
    }
    let matched: boolean;
    try {
      matched = r.test(c);
    } catch (e) {
      if (!(e instanceof UnknownAtRuntime)) throw e;
      if (r.target.kind === 'continue') {
        note(
          w,
          `rule at ${ruleWhere(r)} not evaluated (${e.message}); it only ${r.target.name === null ? 'counts' : `applies ${r.target.name}`}, so the verdict does not depend on it`,
        );
        continue;
      }
      return undetermined(decisive(steps, hook, chain, r, 'unknown', e.message), e.message);
    }
    if (!matched) continue;
    if (r.unknown !== null) {
      // A rule that only counts or logs decides nothing, matched or not.
      if (r.target.kind === 'continue') {
        note(
          w,
          `rule at ${ruleWhere(r)} not evaluated (${r.unknown}); it only ${r.target.name === null ? 'counts' : `applies ${r.target.name}`}, so the verdict does not depend on it`,
        );
        continue;
      }
      // What virtables cannot evaluate may match or not: the explorer follows both.
      if (x === null || x.rule === null)
        return undetermined(decisive(steps, hook, chain, r, 'unknown', r.unknown), r.unknown);
      if (!undecided(c, r.unknown)) continue;
    }
    if (r.notes.length > 0) for (const n of r.notes) note(w, n);
    if (r.effects !== null) for (const e of r.effects) applyEffect(w, hook, chain, r, e);
    let t = r.target;
    if (t.kind === 'vmap') {
      let picked: CompiledTarget | null;
      try {
        picked = t.pick(c);
      } catch (e) {
        if (!(e instanceof UnknownAtRuntime)) throw e;
        return undetermined(decisive(steps, hook, chain, r, 'unknown', e.message), e.message);
      }
      // No element for this packet: the rule ends without a verdict.
      if (picked === null) continue;
      t = picked;
    }
    switch (t.kind) {
      case 'accept':
        record(steps, hook, chain, r, 'accept', null);
        return ACCEPTED;
      case 'drop':
        return dropped(decisive(steps, hook, chain, r, 'drop', null));
      case 'reject':
        return rejected(decisive(steps, hook, chain, r, 'reject', t.with), t.with);
      case 'return': {
        if (depth === 0) {
          record(steps, hook, chain, r, 'return', `RETURN from a built-in chain: policy ${builtin.policy}`);
          return policyResult(builtin, steps, hook);
        }
        depth--;
        unwind(w.stack, depth);
        record(steps, hook, chain, r, 'return', steps ? `back to ${chains[depth]!.name}` : null);
        chain = chains[depth]!;
        list = lists[depth]!;
        i = resume[depth]!;
        break;
      }
      case 'chain': {
        const next = t === r.target ? chain.jumps[r.index] : chain.byName?.get(t.chain);
        if (!next)
          return undetermined(
            decisive(steps, hook, chain, r, 'unknown', `jump to missing chain ${t.chain}`),
            `jump to missing chain ${t.chain}`,
          );
        if (isOnPath(w.stack, next)) {
          const loop = [...path.slice(path.indexOf(next), w.stack.pathLen), next].map((c) => c.name).join(' → ');
          const why = `chains loop (${loop}): the kernel refuses to load such a table (ELOOP)`;
          return undetermined(decisive(steps, hook, chain, r, 'unknown', why), why);
        }
        record(steps, hook, chain, r, t.goto ? 'goto' : 'jump', t.chain);
        if (!t.goto) {
          chains[depth] = chain;
          lists[depth] = list;
          resume[depth] = i;
          pathAt[depth] = w.stack.pathLen;
          depth++;
        }
        enterPath(w.stack, next);
        chain = next;
        list = candidates(next.index, c);
        i = 0;
        break;
      }
      case 'continue':
        if (t.name !== null) record(steps, hook, chain, r, 'continue', t.name);
        break;
      case 'ipset':
        for (const op of t.ops) changeSet(w.ruleset.env.ipsets, op.op, op.set, op.flags, c, c.memory.sets);
        record(
          steps,
          hook,
          chain,
          r,
          'continue',
          steps ? t.ops.map((o) => `${o.op === 'add' ? 'added to' : 'deleted from'} set ${o.set}`).join(', ') : null,
        );
        break;
      case 'mark':
      case 'connmark':
      case 'notrack':
        applyEffect(w, hook, chain, r, t);
        break;
      case 'vmap':
        return undetermined(
          decisive(steps, hook, chain, r, 'unknown', 'a verdict map inside a verdict map'),
          'a verdict map inside a verdict map',
        );
      case 'dnat':
      case 'snat':
      case 'masquerade':
      case 'redirect':
      case 'netmap':
        return natBy(decisive(steps, hook, chain, r, 'nat', t.kind.toUpperCase()), t);
      case 'unknown':
        return undetermined(decisive(steps, hook, chain, r, 'unknown', t.why), t.why);
    }
  }
}

const ACCEPTED: ChainResult = { kind: 'accept', step: null, with: null, why: null, target: null };

/** Marks and conntrack changes: the rule goes on (an iptables target, or an nft statement before the verdict). */
function applyEffect(w: Walker, hook: Hook, chain: CompiledChain, r: CompiledRule, t: CompiledTarget): void {
  const c = w.ctx;
  const steps = w.steps;
  switch (t.kind) {
    case 'mark':
      c.mark = ((c.mark & ~t.mask) ^ t.value) >>> 0;
      record(steps, hook, chain, r, 'mark', steps ? `mark now 0x${c.mark.toString(16)}` : null);
      break;
    case 'connmark': {
      const f = w.flow;
      // Every bit written: the connection's mark is known from here on.
      if (t.op === 'set') {
        f.mark = ((f.mark & ~t.mask) ^ t.value) >>> 0;
        if (t.mask >>> 0 === 0xffffffff) f.markUnknown = false;
      } else if (t.op === 'save') {
        f.mark = ((f.mark & ~t.ctmask) ^ (c.mark & t.nfmask)) >>> 0;
        if (t.ctmask >>> 0 === 0xffffffff && t.nfmask >>> 0 === 0xffffffff) f.markUnknown = false;
      } else {
        c.mark = ((c.mark & ~t.nfmask) ^ (f.mark & t.ctmask)) >>> 0;
        if (f.markUnknown)
          note(
            w,
            `rule at ${ruleWhere(r)} copies the connection's mark, which is not known (it existed before the trace): the packet's mark after it is taken as 0x${c.mark.toString(16)}`,
          );
      }
      record(
        steps,
        hook,
        chain,
        r,
        'mark',
        steps ? `connmark 0x${f.mark.toString(16)}, mark 0x${c.mark.toString(16)}` : null,
      );
      break;
    }
    case 'notrack':
      w.flow.untracked = true;
      c.ctState = ST_UNTRACKED;
      record(steps, hook, chain, r, 'notrack', 'conntrack skips this packet');
      break;
    default:
      break;
  }
}

function policyResult(chain: CompiledChain, steps: Array<Step | Hop> | null, hook: Hook): ChainResult {
  const detail = steps ? `policy ${chain.policy}` : null;
  if (chain.policy === 'ACCEPT') {
    record(steps, hook, chain, null, 'policy', detail);
    return ACCEPTED;
  }
  const step = decisive(steps, hook, chain, null, 'policy', `policy ${chain.policy}`);
  if (chain.policy === 'DROP') return dropped(step);
  return undetermined(step, `policy ${chain.policy}`);
}

// --- NAT -------------------------------------------------------------------------------------

type NatDecision =
  | { readonly addr: bigint | null; readonly port: number | null }
  | { readonly unknown: string }
  | { readonly drop: string };

function pickPort(
  range: NatRange,
  current: number,
  what: 'src' | 'dst',
  w: Walker,
): number | null | { unknown: string } {
  if (range.portLo === null || range.portHi === null || current < 0) return null;
  if (current >= range.portLo && current <= range.portHi) return current;
  if (range.portLo === range.portHi) return range.portLo;
  // The kernel picks a free port in the range from a hash: the exact one cannot be predicted.
  if (what === 'dst')
    return { unknown: `DNAT to a port range (${range.portLo}-${range.portHi}) that does not contain ${current}` };
  note(
    w,
    `source port remapped into ${range.portLo}-${range.portHi} (the kernel picks a free one; virtables shows the first)`,
  );
  return range.portLo;
}

function pickAddr(range: NatRange, what: 'src' | 'dst', w: Walker): bigint | null | { unknown: string } {
  if (range.addrLo === null || range.addrHi === null) return null;
  if (range.addrLo === range.addrHi) return range.addrLo;
  if (what === 'dst') return { unknown: 'DNAT to an address range (the kernel picks one by hash)' };
  note(w, 'SNAT to an address range: the kernel picks one by hash; virtables shows the first');
  return range.addrLo;
}

function natDecision(w: Walker, hook: Hook, t: CompiledTarget): NatDecision {
  const c = w.ctx;
  const manip = manipOf(hook);
  const port = manip === 'dst' ? c.dport : c.sport;
  const withPort = (addr: bigint | null, range: NatRange): NatDecision => {
    const p = pickPort(range, port, manip, w);
    if (p !== null && typeof p === 'object') return p;
    return { addr, port: p };
  };
  switch (t.kind) {
    case 'dnat':
    case 'snat': {
      const a = pickAddr(t.range, manip, w);
      if (a !== null && typeof a === 'object') return a;
      return withPort(a, t.range);
    }
    case 'masquerade': {
      const a = w.host.masqueradeAddress(c.outIface, c.dst);
      if (a === null) return { drop: `MASQUERADE: ${c.outIface} has no address` };
      return withPort(a, t.range);
    }
    case 'redirect': {
      const a = hook === 'OUTPUT' ? w.host.loopback : w.host.redirectAddress(c.inIface);
      if (a === null) return { drop: `REDIRECT: ${c.inIface} has no address` };
      return withPort(a, t.range);
    }
    case 'netmap': {
      const bits = w.ruleset.family === 4 ? 32 : 128;
      const mask = t.prefix === 0 ? 0n : ((1n << BigInt(t.prefix)) - 1n) << BigInt(bits - t.prefix);
      const full = (1n << BigInt(bits)) - 1n;
      const cur = manip === 'dst' ? c.dst : c.src;
      return { addr: (cur & (full ^ mask)) | t.network, port: null };
    }
    default:
      return { unknown: `not a NAT target: ${t.kind}` };
  }
}

/** Applies a NAT binding to the packet and the connection's expected reply. */
function applyBinding(w: Walker, hook: Hook, d: { addr: bigint | null; port: number | null }): void {
  const c = w.ctx;
  const f = w.flow;
  if (manipOf(hook) === 'dst') {
    const addr = d.addr ?? c.dst;
    const port = d.port ?? c.dport;
    if (addr !== c.dst || port !== c.dport) f.dnat = true;
    c.dst = addr;
    c.dport = port;
    f.reply.src = addr;
    f.reply.sport = port;
  } else {
    const addr = d.addr ?? c.src;
    const port = d.port ?? c.sport;
    if (addr !== c.src || port !== c.sport) f.snat = true;
    c.src = addr;
    c.sport = port;
    f.reply.dst = addr;
    f.reply.dport = port;
  }
}

/** A reply (or later packet) gets the connection's NAT undone/redone at the nat hook positions. */
function applyEstablishedNat(w: Walker, hook: Hook): void {
  const c = w.ctx;
  const f = w.flow;
  if (f.untracked) return;
  const manip = manipOf(hook);
  if (w.ctx.ctDir === 1) {
    // Reply: the destination is restored where a source was translated, and vice versa.
    if (manip === 'dst' && f.snat) {
      c.dst = f.orig.src;
      c.dport = f.orig.sport;
    } else if (manip === 'src' && f.dnat) {
      c.src = f.orig.dst;
      c.sport = f.orig.dport;
    }
  } else {
    if (manip === 'dst' && f.dnat) {
      c.dst = f.reply.src;
      c.dport = f.reply.sport;
    } else if (manip === 'src' && f.snat) {
      c.src = f.reply.dst;
      c.sport = f.reply.dport;
    }
  }
}

/** Runs every stage of a hook on the packet. */
export function runHook(w: Walker, hook: Hook): HookOutcome {
  w.ctx.hook = hook;
  const stages = stagesOf(w.ruleset.hooks, hook);
  for (let i = 0; i < stages.length;) {
    const stage = stages[i]!;
    const tie = stage.tie;
    const r =
      tie === null
        ? runStage(w, hook, stage)
        : explore(
            w,
            hook,
            tie,
            (ww, order) => runStages(ww, hook, stages, i, order),
            (k) => stageName(stages[i + k]!),
            stage.priority,
          );
    if (r.kind !== 'accept') return r;
    i += tie === null ? 1 : tie.size;
  }
  return HOOK_ACCEPT;
}

const HOOK_ACCEPT: HookOutcome = { kind: 'accept' };

function runStages(
  w: Walker,
  hook: Hook,
  stages: readonly HookStage[],
  start: number,
  order: readonly number[],
): HookOutcome {
  for (const k of order) {
    const r = runStage(w, hook, stages[start + k]!);
    if (r.kind !== 'accept') return r;
  }
  return HOOK_ACCEPT;
}

/** What conntrack shows a chain: nothing yet before its own hook has run (the raw table), else the entry. */
function conntrackView(w: Walker): void {
  const c = w.ctx;
  if (w.ctAttached) {
    c.flow = w.flow;
    c.ctState = ctStateFor(w);
  } else {
    c.flow = null;
    c.ctState = w.flow.untracked ? ST_UNTRACKED : ST_INVALID;
  }
}

function runStage(w: Walker, hook: Hook, stage: HookStage): HookOutcome {
  switch (stage.kind) {
    case 'conntrack':
      w.ctAttached = true;
      return HOOK_ACCEPT;
    case 'chain': {
      const chain = stage.base.chain;
      w.ctx.table = chain.table;
      conntrackView(w);
      const r = runChain(w, hook, chain);
      if (r.kind === 'nat') return { kind: 'unknown', step: r.step, why: `${r.target.kind} outside the nat table` };
      return r.kind === 'accept' ? HOOK_ACCEPT : r;
    }
    case 'nat':
      return runNatCore(w, hook, stage);
    case 'opaque': {
      const step: Step = { kind: 'rule', hook, table: '', chain: '', rule: null, action: 'unknown', detail: stage.why };
      w.steps?.push(step);
      return { kind: 'unknown', step, why: stage.why };
    }
  }
}

/** The NAT core: a connection's first packet meets the nat chains until one binds; later packets get the binding. */
function runNatCore(w: Walker, hook: Hook, stage: Extract<HookStage, { kind: 'nat' }>): HookOutcome {
  conntrackView(w);
  const f = w.flow;
  if (f.untracked) return HOOK_ACCEPT;
  const dst = manipOf(hook) === 'dst';
  if (!w.isNew || (dst ? f.dstBound : f.srcBound)) {
    applyEstablishedNat(w, hook);
    return HOOK_ACCEPT;
  }
  // Decided now, whatever the chains say: no binding is a binding to the tuple as it is.
  if (dst) f.dstBound = true;
  else f.srcBound = true;
  const chains = stage.chains;
  if (stage.chainTie === null) return natChains(w, hook, chains, null);
  const run = (ww: Walker, order: readonly number[]): HookOutcome => natChains(ww, hook, chains, order);
  return explore(w, hook, stage.chainTie, run, (k) => baseName(chains[k]!), null);
}

function natChains(w: Walker, hook: Hook, chains: readonly BaseChain[], order: readonly number[] | null): HookOutcome {
  for (let k = 0; k < chains.length; k++) {
    const chain = chains[order === null ? k : order[k]!]!.chain;
    w.ctx.table = chain.table;
    const r = runChain(w, hook, chain);
    switch (r.kind) {
      case 'accept':
        continue;
      case 'drop':
      case 'reject':
      case 'unknown':
        return r;
      case 'nat': {
        const d = natDecision(w, hook, r.target);
        if ('unknown' in d) return { kind: 'unknown', step: r.step, why: d.unknown };
        if ('drop' in d) return { kind: 'drop', step: r.step };
        applyBinding(w, hook, d);
        if (w.steps) r.step.detail = natDetail(w, hook, r.target);
        // The first binding wins: later nat chains are not consulted.
        return HOOK_ACCEPT;
      }
    }
  }
  return HOOK_ACCEPT;
}

// --- stages whose order no input fixes --------------------------------------------------------

/** What a walk may change of the packet and its connection. */
interface Snapshot {
  readonly src: bigint;
  readonly dst: bigint;
  readonly sport: number;
  readonly dport: number;
  readonly mark: number;
  readonly ctState: number;
  readonly snat: boolean;
  readonly dnat: boolean;
  readonly srcBound: boolean;
  readonly dstBound: boolean;
  readonly untracked: boolean;
  readonly ctMark: number;
  readonly reply: Readonly<Flow['reply']>;
  readonly ctAttached: boolean;
}

function snapshot(w: Walker): Snapshot {
  const c = w.ctx;
  const f = w.flow;
  return {
    src: c.src,
    dst: c.dst,
    sport: c.sport,
    dport: c.dport,
    mark: c.mark,
    ctState: c.ctState,
    snat: f.snat,
    dnat: f.dnat,
    srcBound: f.srcBound,
    dstBound: f.dstBound,
    untracked: f.untracked,
    ctMark: f.mark,
    reply: { ...f.reply },
    ctAttached: w.ctAttached,
  };
}

function restore(w: Walker, s: Snapshot): void {
  const c = w.ctx;
  const f = w.flow;
  c.src = s.src;
  c.dst = s.dst;
  c.sport = s.sport;
  c.dport = s.dport;
  c.mark = s.mark;
  c.ctState = s.ctState;
  f.snat = s.snat;
  f.dnat = s.dnat;
  f.srcBound = s.srcBound;
  f.dstBound = s.dstBound;
  f.untracked = s.untracked;
  f.mark = s.ctMark;
  Object.assign(f.reply, s.reply);
  w.ctAttached = s.ctAttached;
}

function sameState(a: Snapshot, b: Snapshot): boolean {
  return (
    a.src === b.src &&
    a.dst === b.dst &&
    a.sport === b.sport &&
    a.dport === b.dport &&
    a.mark === b.mark &&
    a.snat === b.snat &&
    a.dnat === b.dnat &&
    a.untracked === b.untracked &&
    a.ctMark === b.ctMark &&
    a.reply.src === b.reply.src &&
    a.reply.dst === b.reply.dst &&
    a.reply.sport === b.reply.sport &&
    a.reply.dport === b.reply.dport
  );
}

function sameOutcome(a: HookOutcome, b: HookOutcome): boolean {
  if (a.kind !== b.kind) return false;
  return a.kind !== 'reject' || a.with === (b as typeof a).with;
}

interface Branch {
  readonly order: readonly number[];
  readonly outcome: HookOutcome;
  readonly state: Snapshot;
  readonly steps: Array<Step | Hop> | null;
  readonly notes: readonly string[];
}

/**
 * Walks every order a tie group allows from the same packet. One outcome for all: taken. Else
 * the order the listing implies when there is one (said in a note), or "unknown" naming what
 * it depends on, with every branch kept for whoever explores them.
 */
function explore(
  w: Walker,
  hook: Hook,
  tie: TieGroup,
  run: (w: Walker, order: readonly number[]) => HookOutcome,
  name: (k: number) => string,
  priority: number | null,
): HookOutcome {
  const start = snapshot(w);
  const notesAt = w.notes.length;
  const branches: Branch[] = [];
  for (const order of tie.orders) {
    if (branches.length > 0) restore(w, start);
    w.notes.length = notesAt;
    const steps: Array<Step | Hop> | null = w.steps === null ? null : [];
    const ww: Walker = steps === null ? w : { ...w, steps };
    const outcome = run(ww, order);
    if (ww !== w) w.ctAttached = ww.ctAttached;
    branches.push({ order, outcome, state: snapshot(w), steps, notes: w.notes.slice(notesAt) });
  }
  const first = branches[0]!;
  const agree = branches.every((b) => sameOutcome(b.outcome, first.outcome) && sameState(b.state, first.state));
  const orderText = (b: Branch): string => b.order.map(name).join(', then ');
  const at = priority === null ? '' : ` (priority ${priority})`;
  // An undecided rule in some order: the answer depends on that rule first of all.
  const undecided = agree ? undefined : branches.find((b) => b.outcome.kind === 'unknown');
  if (undecided) {
    restore(w, undecided.state);
    w.notes.length = notesAt;
    for (const n of undecided.notes) note(w, n);
    if (undecided.steps) for (const s of undecided.steps) w.steps!.push(s);
    return undecided.outcome;
  }
  if (!agree && !tie.listed) {
    restore(w, start);
    w.notes.length = notesAt;
    const members = tie.orders[0]!.map(name).sort().join(' and ');
    const each = branches.map((b) => `${orderText(b)} → ${outcomeWords(w, b)}`).join('; ');
    const why =
      `depends on the order the kernel runs ${members}${at}: the later-registered runs first, ` +
      `and no input says which that is; ${each}`;
    const step: Step = { kind: 'rule', hook, table: '', chain: '', rule: null, action: 'unknown', detail: why };
    w.steps?.push(step);
    return { kind: 'unknown', step, why, branches: branches.map((b) => ({ order: orderText(b), outcome: b.outcome })) };
  }
  restore(w, first.state);
  w.notes.length = notesAt;
  for (const n of first.notes) note(w, n);
  if (first.steps) for (const s of first.steps) w.steps!.push(s);
  if (!agree) {
    const other = branches.find((b) => !sameOutcome(b.outcome, first.outcome) || !sameState(b.state, first.state))!;
    const otherWay = `${orderText(other)} → ${outcomeWords(w, other)}`;
    note(
      w,
      `${orderText(first)}${at}: the later-created table runs first, and nft lists tables in creation order; ` +
        `the other way round: ${otherWay}`,
    );
  }
  return first.outcome;
}

function outcomeWords(w: Walker, b: Branch): string {
  const o = b.outcome;
  const where = (s: Step): string => `${s.table} ${s.chain}`.trim();
  switch (o.kind) {
    case 'accept': {
      const fmt = (v: bigint): string => formatHost(w.ruleset.family, v);
      const s = b.state;
      const port = (p: number): string => (p >= 0 ? `:${p}` : '');
      return `passes as ${fmt(s.src)}${port(s.sport)} → ${fmt(s.dst)}${port(s.dport)}`;
    }
    case 'drop':
      return `dropped in ${where(o.step)}`;
    case 'reject':
      return `rejected in ${where(o.step)} with ${o.with}`;
    case 'unknown':
      return `unknown (${o.why})`;
  }
}

/** A base chain in words: `filter FORWARD`, `iptables-legacy filter FORWARD`, `ip libvirt_network forward`. */
export function baseName(b: BaseChain): string {
  const c = b.chain;
  switch (b.registrar) {
    case 'iptables':
      return `${c.table} ${c.name}`;
    case 'iptables-legacy':
      return `${b.family === 'ip6' ? 'ip6tables' : 'iptables'}-legacy ${c.table} ${c.name}`;
    // nft's own tables carry their family in the name already; an iptables-nft table does not.
    default:
      return c.table.includes(' ') ? `${c.table} ${c.name}` : `${b.family} ${c.table} ${c.name}`;
  }
}

function stageName(s: HookStage): string {
  switch (s.kind) {
    case 'chain':
      return baseName(s.base);
    case 'conntrack':
      return 'conntrack';
    case 'nat':
      return `the NAT core (${s.chains.map(baseName).join(', ')})`;
    case 'opaque':
      return s.why;
  }
}

function natDetail(w: Walker, hook: Hook, t: CompiledTarget): string {
  const c = w.ctx;
  const fmt = (v: bigint): string => formatHost(w.ruleset.family, v);
  if (manipOf(hook) === 'dst')
    return `${t.kind.toUpperCase()}: destination now ${fmt(c.dst)}${c.dport >= 0 ? `:${c.dport}` : ''}`;
  return `${t.kind.toUpperCase()}: source now ${fmt(c.src)}${c.sport >= 0 ? `:${c.sport}` : ''}`;
}
