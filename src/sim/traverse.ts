// Netfilter's walk for one hook: the tables in priority order (raw → conntrack → mangle →
// nat/filter/security), each built-in chain's rules with jumps, gotos, RETURN and the
// policy, and the NAT bindings the nat table makes for a connection's first packet (and
// undoes on its replies).

import { formatHost } from '../model/cidr.js';
import { candidates, type CompiledChain, type CompiledRule, type Ruleset } from './compile.js';
import { changeSet } from './ipset.js';
import { UnknownAtRuntime } from './matches.js';
import { ST_DNAT, ST_INVALID, ST_SNAT, ST_UNTRACKED, type Flow, type Hook, type MatchCtx } from './packet.js';
import type { CompiledTarget, NatRange } from './targets.js';

export { HOOK_TABLES } from './compile.js';

/** Which address the nat table changes at a hook: destination before routing, source after. */
const MANIP: Readonly<Record<Hook, 'dst' | 'src'>> = { PREROUTING: 'dst', OUTPUT: 'dst', INPUT: 'src', POSTROUTING: 'src', FORWARD: 'src' };

export type StepAction = 'jump' | 'goto' | 'return' | 'end' | 'accept' | 'drop' | 'reject' | 'nat' | 'mark' | 'notrack' | 'continue' | 'policy' | 'unknown';

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
  | { readonly kind: 'unknown'; readonly step: Step; readonly why: string };

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
  /** Every chain entered since the built-in one and not yet left (a goto extends its caller's frame). */
  readonly path: CompiledChain[];
  readonly onPath: Set<CompiledChain>;
  /** Where in `path` the frame pushed at each depth begins. */
  readonly pathAt: number[];
}

export function jumpStack(): JumpStack {
  return { chains: [], lists: [], next: [], path: [], onPath: new Set(), pathAt: [] };
}

/** Leaves the frames above `depth`: their chains are no longer on the path. */
function unwind(stack: JumpStack, depth: number): void {
  const { path, onPath } = stack;
  const keep = stack.pathAt[depth]!;
  while (path.length > keep) onPath.delete(path.pop()!);
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

type ChainResult =
  | { readonly kind: 'accept' }
  | { readonly kind: 'drop'; readonly step: Step }
  | { readonly kind: 'reject'; readonly step: Step; readonly with: string }
  | { readonly kind: 'unknown'; readonly step: Step; readonly why: string }
  | { readonly kind: 'nat'; readonly step: Step; readonly target: CompiledTarget };

function record(steps: Array<Step | Hop> | null, hook: Hook, chain: CompiledChain, rule: CompiledRule | null, action: StepAction, detail: string | null): Step | null {
  if (steps === null) return null;
  const s: Step = { kind: 'rule', hook, table: chain.table, chain: chain.name, rule, action, detail };
  steps.push(s);
  return s;
}

/** A step that decides must exist even when nothing is recorded. */
function decisive(steps: Array<Step | Hop> | null, hook: Hook, chain: CompiledChain, rule: CompiledRule | null, action: StepAction, detail: string | null): Step {
  return record(steps, hook, chain, rule, action, detail) ?? { kind: 'rule', hook, table: chain.table, chain: chain.name, rule, action, detail };
}

/** Walks a built-in chain and whatever it jumps to; returns the table's verdict for the packet. */
export function runChain(w: Walker, hook: Hook, builtin: CompiledChain): ChainResult {
  const c = w.ctx;
  const steps = w.steps;
  const { chains, lists, next: resume, path, onPath, pathAt } = w.stack;
  path.length = 0;
  onPath.clear();
  path.push(builtin);
  onPath.add(builtin);
  let depth = 0;
  let chain = builtin;
  let list = candidates(builtin.index, c);
  let i = 0;
  for (;;) {
    if (i >= list.length) {
      if (depth === 0) {
        if (chain !== builtin) record(steps, hook, chain, null, 'end', `end of chain: ${builtin.name} policy ${builtin.policy}`);
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
    let matched: boolean;
    try {
      matched = r.test(c);
    } catch (e) {
      if (!(e instanceof UnknownAtRuntime)) throw e;
      return { kind: 'unknown', step: decisive(steps, hook, chain, r, 'unknown', e.message), why: e.message };
    }
    if (!matched) continue;
    if (r.unknown !== null) {
      // A rule that only counts or logs decides nothing, matched or not.
      if (r.target.kind === 'continue') {
        note(w, `rule at line ${r.rule.pos.line} not evaluated (${r.unknown}); it only ${r.target.name === null ? 'counts' : `applies ${r.target.name}`}, so the verdict does not depend on it`);
        continue;
      }
      return { kind: 'unknown', step: decisive(steps, hook, chain, r, 'unknown', r.unknown), why: r.unknown };
    }
    if (r.notes.length > 0) for (const n of r.notes) note(w, n);
    const t = r.target;
    switch (t.kind) {
      case 'accept':
        record(steps, hook, chain, r, 'accept', null);
        return ACCEPTED;
      case 'drop':
        return { kind: 'drop', step: decisive(steps, hook, chain, r, 'drop', null) };
      case 'reject':
        return { kind: 'reject', step: decisive(steps, hook, chain, r, 'reject', t.with), with: t.with };
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
        const next = chain.jumps[r.index];
        if (!next) return { kind: 'unknown', step: decisive(steps, hook, chain, r, 'unknown', `jump to missing chain ${t.chain}`), why: `jump to missing chain ${t.chain}` };
        if (onPath.has(next)) {
          const loop = [...path.slice(path.indexOf(next)), next].map((c) => c.name).join(' → ');
          const why = `chains loop (${loop}): the kernel refuses to load such a table (ELOOP)`;
          return { kind: 'unknown', step: decisive(steps, hook, chain, r, 'unknown', why), why };
        }
        record(steps, hook, chain, r, t.goto ? 'goto' : 'jump', t.chain);
        if (!t.goto) {
          chains[depth] = chain;
          lists[depth] = list;
          resume[depth] = i;
          pathAt[depth] = path.length;
          depth++;
        }
        path.push(next);
        onPath.add(next);
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
        record(steps, hook, chain, r, 'continue', steps ? t.ops.map((o) => `${o.op === 'add' ? 'added to' : 'deleted from'} set ${o.set}`).join(', ') : null);
        break;
      case 'mark': {
        c.mark = ((c.mark & ~t.mask) ^ t.value) >>> 0;
        record(steps, hook, chain, r, 'mark', steps ? `mark now 0x${c.mark.toString(16)}` : null);
        break;
      }
      case 'connmark': {
        const f = w.flow;
        if (t.op === 'set') f.mark = ((f.mark & ~t.mask) ^ t.value) >>> 0;
        else if (t.op === 'save') f.mark = ((f.mark & ~t.ctmask) ^ (c.mark & t.nfmask)) >>> 0;
        else c.mark = ((c.mark & ~t.nfmask) ^ (f.mark & t.ctmask)) >>> 0;
        record(steps, hook, chain, r, 'mark', steps ? `connmark 0x${f.mark.toString(16)}, mark 0x${c.mark.toString(16)}` : null);
        break;
      }
      case 'notrack':
        w.flow.untracked = true;
        c.ctState = ST_UNTRACKED;
        record(steps, hook, chain, r, 'notrack', 'conntrack skips this packet');
        break;
      case 'dnat': case 'snat': case 'masquerade': case 'redirect': case 'netmap':
        return { kind: 'nat', step: decisive(steps, hook, chain, r, 'nat', t.kind.toUpperCase()), target: t };
      case 'unknown':
        return { kind: 'unknown', step: decisive(steps, hook, chain, r, 'unknown', t.why), why: t.why };
    }
  }
}

const ACCEPTED: ChainResult = { kind: 'accept' };

function policyResult(chain: CompiledChain, steps: Array<Step | Hop> | null, hook: Hook): ChainResult {
  const detail = steps ? `policy ${chain.policy}` : null;
  if (chain.policy === 'ACCEPT') {
    record(steps, hook, chain, null, 'policy', detail);
    return ACCEPTED;
  }
  const step = decisive(steps, hook, chain, null, 'policy', `policy ${chain.policy}`);
  if (chain.policy === 'DROP') return { kind: 'drop', step };
  return { kind: 'unknown', step, why: `policy ${chain.policy}` };
}

// --- NAT -------------------------------------------------------------------------------------

type NatDecision = { readonly addr: bigint | null; readonly port: number | null } | { readonly unknown: string } | { readonly drop: string };

function pickPort(range: NatRange, current: number, what: 'src' | 'dst', w: Walker): number | null | { unknown: string } {
  if (range.portLo === null || range.portHi === null || current < 0) return null;
  if (current >= range.portLo && current <= range.portHi) return current;
  if (range.portLo === range.portHi) return range.portLo;
  // The kernel picks a free port in the range from a hash: the exact one cannot be predicted.
  if (what === 'dst') return { unknown: `DNAT to a port range (${range.portLo}-${range.portHi}) that does not contain ${current}` };
  note(w, `source port remapped into ${range.portLo}-${range.portHi} (the kernel picks a free one; virtables shows the first)`);
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
  const manip = MANIP[hook];
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
  if (MANIP[hook] === 'dst') {
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
  const manip = MANIP[hook];
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

/** Runs every table of a hook on the packet. */
export function runHook(w: Walker, hook: Hook): HookOutcome {
  const c = w.ctx;
  c.hook = hook;
  for (const { table, chain } of w.ruleset.hooks[hook]) {
    c.table = table;
    if (table === 'raw') {
      // Conntrack has not looked at the packet yet: the state match sees INVALID (UNTRACKED after NOTRACK).
      c.flow = w.ctAttached ? w.flow : null;
      c.ctState = w.ctAttached ? ctStateFor(w) : w.flow.untracked ? ST_UNTRACKED : ST_INVALID;
    } else {
      if (hook === 'PREROUTING' || hook === 'OUTPUT') w.ctAttached = true;
      c.flow = w.flow;
      c.ctState = ctStateFor(w);
    }
    if (table === 'nat') {
      const manip = MANIP[hook];
      const bound = manip === 'dst' ? w.flow.dstBound : w.flow.srcBound;
      if (w.flow.untracked) continue;
      if (!w.isNew || bound) {
        applyEstablishedNat(w, hook);
        continue;
      }
      if (manip === 'dst') w.flow.dstBound = true;
      else w.flow.srcBound = true;
    }
    if (!chain) continue;
    const r = runChain(w, hook, chain);
    switch (r.kind) {
      case 'accept':
        continue;
      case 'drop':
      case 'reject':
      case 'unknown':
        return r;
      case 'nat': {
        if (table !== 'nat') return { kind: 'unknown', step: r.step, why: `${r.target.kind} outside the nat table` };
        const d = natDecision(w, hook, r.target);
        if ('unknown' in d) return { kind: 'unknown', step: r.step, why: d.unknown };
        if ('drop' in d) return { kind: 'drop', step: r.step };
        applyBinding(w, hook, d);
        if (w.steps) r.step.detail = natDetail(w, hook, r.target);
        continue;
      }
    }
  }
  return { kind: 'accept' };
}

function natDetail(w: Walker, hook: Hook, t: CompiledTarget): string {
  const c = w.ctx;
  const fmt = (v: bigint): string => formatHost(w.ruleset.family, v);
  if (MANIP[hook] === 'dst') return `${t.kind.toUpperCase()}: destination now ${fmt(c.dst)}${c.dport >= 0 ? `:${c.dport}` : ''}`;
  return `${t.kind.toUpperCase()}: source now ${fmt(c.src)}${c.sport >= 0 ? `:${c.sport}` : ''}`;
}

