// Netfilter's walk for one hook: the tables in priority order (raw → conntrack → mangle →
// nat/filter/security), each built-in chain's rules with jumps, gotos, RETURN and the
// policy, and the NAT bindings the nat table makes for a connection's first packet (and
// undoes on its replies).

import { formatHost } from '../model/cidr.js';
import { chainKey, candidates, type CompiledChain, type CompiledRule, type Ruleset } from './compile.js';
import { UnknownAtRuntime } from './matches.js';
import { NO, ST_DNAT, ST_INVALID, ST_SNAT, ST_UNTRACKED, UNKNOWN, type Flow, type Hook, type MatchCtx } from './packet.js';
import type { CompiledTarget, NatRange } from './targets.js';

/** The tables each hook runs, in the kernel's priority order (raw -300, mangle -150, nat DNAT -100, filter 0, security 50, nat SNAT 100). */
export const HOOK_TABLES: Readonly<Record<Hook, readonly string[]>> = {
  PREROUTING: ['raw', 'mangle', 'nat'],
  INPUT: ['mangle', 'filter', 'security', 'nat'],
  FORWARD: ['mangle', 'filter', 'security'],
  OUTPUT: ['raw', 'mangle', 'nat', 'filter', 'security'],
  POSTROUTING: ['mangle', 'nat'],
};

/** Which address the nat table changes at a hook: destination before routing, source after. */
const MANIP: Readonly<Record<Hook, 'dst' | 'src'>> = { PREROUTING: 'dst', OUTPUT: 'dst', INPUT: 'src', POSTROUTING: 'src', FORWARD: 'src' };

export type StepAction = 'jump' | 'goto' | 'return' | 'end' | 'accept' | 'drop' | 'reject' | 'nat' | 'mark' | 'notrack' | 'continue' | 'policy' | 'unknown';

/** One thing that happened in a chain: a rule that matched and acted, or the chain's end/policy. */
export interface Step {
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
  readonly steps: Step[] | null;
  readonly notes: Set<string>;
  readonly host: NatHost;
}

const MAX_CALL_DEPTH = 64;

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

interface Frame {
  readonly chain: CompiledChain;
  readonly list: readonly CompiledRule[];
  i: number;
}

/** Walks a built-in chain and whatever it jumps to; returns the table's verdict for the packet. */
export function runChain(w: Walker, hook: Hook, builtin: CompiledChain): ChainResult {
  const c = w.ctx;
  const steps = w.steps;
  const record = (chain: CompiledChain, rule: CompiledRule | null, action: StepAction, detail: string | null): Step => {
    const s: Step = { hook, table: chain.table, chain: chain.name, rule, action, detail };
    steps?.push(s);
    return s;
  };
  const stack: Frame[] = [];
  let frame: Frame = { chain: builtin, list: candidates(builtin.index, c), i: 0 };
  for (;;) {
    if (frame.i >= frame.list.length) {
      const caller = stack.pop();
      if (!caller) {
        if (frame.chain !== builtin) record(frame.chain, null, 'end', `end of chain: ${builtin.name} policy ${builtin.policy}`);
        const s = record(builtin, null, 'policy', `policy ${builtin.policy}`);
        return policyResult(builtin, s);
      }
      record(frame.chain, null, 'end', `end of chain: back to ${caller.chain.name}`);
      frame = caller;
      continue;
    }
    const r = frame.list[frame.i++]!;
    let m: number;
    try {
      m = r.test(c) ? 1 : NO;
    } catch (e) {
      if (!(e instanceof UnknownAtRuntime)) throw e;
      return { kind: 'unknown', step: record(frame.chain, r, 'unknown', e.message), why: e.message };
    }
    if (m === NO) continue;
    if (r.unknown !== null) m = UNKNOWN;
    if (m === UNKNOWN) return { kind: 'unknown', step: record(frame.chain, r, 'unknown', r.unknown), why: r.unknown! };
    for (const n of r.notes) w.notes.add(n);
    const t = r.target;
    switch (t.kind) {
      case 'accept':
        record(frame.chain, r, 'accept', null);
        return { kind: 'accept' };
      case 'drop':
        return { kind: 'drop', step: record(frame.chain, r, 'drop', null) };
      case 'reject':
        return { kind: 'reject', step: record(frame.chain, r, 'reject', t.with), with: t.with };
      case 'return': {
        const caller = stack.pop();
        if (!caller) {
          record(frame.chain, r, 'return', `RETURN from a built-in chain: policy ${builtin.policy}`);
          const s = record(builtin, null, 'policy', `policy ${builtin.policy}`);
          return policyResult(builtin, s);
        }
        record(frame.chain, r, 'return', `back to ${caller.chain.name}`);
        frame = caller;
        break;
      }
      case 'chain': {
        const next = w.ruleset.chains.get(chainKey(frame.chain.table, t.chain));
        if (!next) return { kind: 'unknown', step: record(frame.chain, r, 'unknown', `jump to missing chain ${t.chain}`), why: `jump to missing chain ${t.chain}` };
        if (stack.length >= MAX_CALL_DEPTH) return { kind: 'unknown', step: record(frame.chain, r, 'unknown', 'chains nest too deep'), why: 'chains nest too deep (a loop?)' };
        record(frame.chain, r, t.goto ? 'goto' : 'jump', t.chain);
        if (!t.goto) stack.push(frame);
        frame = { chain: next, list: candidates(next.index, c), i: 0 };
        break;
      }
      case 'continue':
        if (t.name !== null) record(frame.chain, r, 'continue', t.name);
        break;
      case 'mark': {
        c.mark = ((c.mark & ~t.mask) ^ t.value) >>> 0;
        record(frame.chain, r, 'mark', `mark now 0x${c.mark.toString(16)}`);
        break;
      }
      case 'connmark': {
        const f = w.flow;
        if (t.op === 'set') f.mark = ((f.mark & ~t.mask) ^ t.value) >>> 0;
        else if (t.op === 'save') f.mark = ((f.mark & ~t.ctmask) ^ (c.mark & t.nfmask)) >>> 0;
        else c.mark = ((c.mark & ~t.nfmask) ^ (f.mark & t.ctmask)) >>> 0;
        record(frame.chain, r, 'mark', `connmark 0x${f.mark.toString(16)}, mark 0x${c.mark.toString(16)}`);
        break;
      }
      case 'notrack':
        w.flow.untracked = true;
        c.ctState = ST_UNTRACKED;
        record(frame.chain, r, 'notrack', 'conntrack skips this packet');
        break;
      case 'dnat': case 'snat': case 'masquerade': case 'redirect': case 'netmap':
        return { kind: 'nat', step: record(frame.chain, r, 'nat', t.kind.toUpperCase()), target: t };
      case 'unknown':
        return { kind: 'unknown', step: record(frame.chain, r, 'unknown', t.why), why: t.why };
    }
  }
}

function policyResult(chain: CompiledChain, step: Step): ChainResult {
  if (chain.policy === 'DROP') return { kind: 'drop', step };
  if (chain.policy === 'ACCEPT') return { kind: 'accept' };
  return { kind: 'unknown', step, why: `policy ${chain.policy}` };
}

// --- NAT -------------------------------------------------------------------------------------

type NatDecision = { readonly addr: bigint | null; readonly port: number | null } | { readonly unknown: string } | { readonly drop: string };

function pickPort(range: NatRange, current: number, what: 'src' | 'dst', notes: Set<string>): number | null | { unknown: string } {
  if (range.portLo === null || range.portHi === null || current < 0) return null;
  if (current >= range.portLo && current <= range.portHi) return current;
  if (range.portLo === range.portHi) return range.portLo;
  // The kernel picks a free port in the range from a hash: the exact one cannot be predicted.
  if (what === 'dst') return { unknown: `DNAT to a port range (${range.portLo}-${range.portHi}) that does not contain ${current}` };
  notes.add(`source port remapped into ${range.portLo}-${range.portHi} (the kernel picks a free one; virtables shows the first)`);
  return range.portLo;
}

function pickAddr(range: NatRange, what: 'src' | 'dst', notes: Set<string>): bigint | null | { unknown: string } {
  if (range.addrLo === null || range.addrHi === null) return null;
  if (range.addrLo === range.addrHi) return range.addrLo;
  if (what === 'dst') return { unknown: 'DNAT to an address range (the kernel picks one by hash)' };
  notes.add('SNAT to an address range: the kernel picks one by hash; virtables shows the first');
  return range.addrLo;
}

function natDecision(w: Walker, hook: Hook, t: CompiledTarget): NatDecision {
  const c = w.ctx;
  const manip = MANIP[hook];
  const port = manip === 'dst' ? c.dport : c.sport;
  const withPort = (addr: bigint | null, range: NatRange): NatDecision => {
    const p = pickPort(range, port, manip, w.notes);
    if (p !== null && typeof p === 'object') return p;
    return { addr, port: p };
  };
  switch (t.kind) {
    case 'dnat':
    case 'snat': {
      const a = pickAddr(t.range, manip, w.notes);
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
  for (const table of HOOK_TABLES[hook]) {
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
    const chain = w.ruleset.chains.get(chainKey(table, hook));
    // An empty chain with an ACCEPT policy decides nothing: not worth a step.
    if (!chain || (chain.rules.length === 0 && chain.policy === 'ACCEPT')) continue;
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
        r.step.detail = natDetail(w, hook, r.target);
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

