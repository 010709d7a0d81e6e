// Targets, compiled once per rule: verdicts, jumps, NAT bindings, mark changes, and the
// non-terminating targets that leave a traced packet as it was.

import { parseCidr, parseHost, type IpFamily } from '../model/cidr.js';
import type { Option, Target } from '../model/dump.js';
import { parseSetFlags, type SetFlags } from './ipset.js';
import { parseMark, portRange } from './matches.js';
import type { MatchCtx } from './packet.js';

export interface NatRange {
  /** Inclusive address range; null keeps the address (REDIRECT, MASQUERADE decide it from the device). */
  readonly addrLo: bigint | null;
  readonly addrHi: bigint | null;
  /** Inclusive port range; null keeps the port. */
  readonly portLo: number | null;
  readonly portHi: number | null;
}

export type CompiledTarget =
  | { readonly kind: 'accept' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'reject'; readonly with: string }
  | { readonly kind: 'return' }
  | { readonly kind: 'chain'; readonly chain: string; readonly goto: boolean }
  /** Non-terminating: LOG, CHECKSUM, … and a rule without a target. */
  | { readonly kind: 'continue'; readonly name: string | null }
  | { readonly kind: 'mark'; readonly value: number; readonly mask: number }
  | { readonly kind: 'connmark'; readonly op: 'set'; readonly value: number; readonly mask: number }
  | { readonly kind: 'connmark'; readonly op: 'save' | 'restore'; readonly nfmask: number; readonly ctmask: number }
  | { readonly kind: 'notrack' }
  | { readonly kind: 'dnat'; readonly range: NatRange }
  | { readonly kind: 'snat'; readonly range: NatRange }
  | { readonly kind: 'masquerade'; readonly range: NatRange }
  | { readonly kind: 'redirect'; readonly range: NatRange }
  | { readonly kind: 'netmap'; readonly prefix: number; readonly network: bigint }
  /** nft `vmap`: the verdict of the element the packet's key hits; null: no element, the rule goes on. */
  | { readonly kind: 'vmap'; readonly pick: (c: MatchCtx) => CompiledTarget | null }
  /** -j SET: members added or deleted (the packet's tuple), then the rule goes on. */
  | {
      readonly kind: 'ipset';
      readonly ops: ReadonlyArray<{ readonly op: 'add' | 'del'; readonly set: string; readonly flags: SetFlags }>;
    }
  | { readonly kind: 'unknown'; readonly why: string };

/** Targets that change nothing a traced packet is later matched on (or only side state: logs, counters). */
const CONTINUE = new Set([
  'LOG',
  'ULOG',
  'NFLOG',
  'TRACE',
  'AUDIT',
  'CHECKSUM',
  'TCPMSS',
  'CLASSIFY',
  'SECMARK',
  'CONNSECMARK',
  'IDLETIMER',
  'LED',
  'RATEEST',
  'TOS',
  'DSCP',
  'TTL',
  'HL',
  'ECN',
  'TCPOPTSTRIP',
  'TEE',
  'SYNPROXY_LOG',
]);

const REJECT4 = new Set([
  'icmp-net-unreachable',
  'icmp-host-unreachable',
  'icmp-port-unreachable',
  'icmp-proto-unreachable',
  'icmp-net-prohibited',
  'icmp-host-prohibited',
  'icmp-admin-prohibited',
  'tcp-reset',
]);
const REJECT_ALIASES: Readonly<Record<string, string>> = {
  'net-unreach': 'icmp-net-unreachable',
  'host-unreach': 'icmp-host-unreachable',
  'port-unreach': 'icmp-port-unreachable',
  'proto-unreach': 'icmp-proto-unreachable',
  'net-prohib': 'icmp-net-prohibited',
  'host-prohib': 'icmp-host-prohibited',
  'admin-prohib': 'icmp-admin-prohibited',
  'tcp-rst': 'tcp-reset',
  'no-route': 'icmp6-no-route',
  'adm-prohibited': 'icmp6-adm-prohibited',
  'addr-unreach': 'icmp6-addr-unreachable',
};
const REJECT6 = new Set([
  'icmp6-no-route',
  'icmp6-adm-prohibited',
  'icmp6-addr-unreachable',
  'icmp6-port-unreachable',
  'icmp6-policy-fail',
  'icmp6-reject-route',
  'tcp-reset',
]);

const first = (o: Option | undefined): string => o?.args[0]?.value ?? '';

/** `A[-B][:P[-Q]]`, `[v6]:P`, `:P` (ports only). */
export function parseNatRange(text: string, family: IpFamily): NatRange | null {
  let addrPart = text;
  let portPart: string | null = null;
  if (family === 6 && text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return null;
    addrPart = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest.startsWith(':')) portPart = rest.slice(1);
    else if (rest !== '') return null;
  } else if (family === 4) {
    const colon = text.indexOf(':');
    if (colon >= 0) {
      addrPart = text.slice(0, colon);
      portPart = text.slice(colon + 1);
    }
  }
  let addrLo: bigint | null = null;
  let addrHi: bigint | null = null;
  if (addrPart !== '') {
    const dash = family === 4 ? addrPart.indexOf('-') : addrPart.indexOf('-');
    const lo = parseHost(dash < 0 ? addrPart : addrPart.slice(0, dash));
    const hi = parseHost(dash < 0 ? addrPart : addrPart.slice(dash + 1));
    if (!lo || !hi || lo.family !== family || hi.family !== family) return null;
    addrLo = lo.value;
    addrHi = hi.value;
  }
  let portLo: number | null = null;
  let portHi: number | null = null;
  if (portPart !== null) {
    const r = portRange(portPart.replace('-', ':'));
    if (!r) return null;
    [portLo, portHi] = r;
  }
  return { addrLo, addrHi, portLo, portHi };
}

function portsOnly(o: Option | undefined): NatRange | null {
  if (!o) return { addrLo: null, addrHi: null, portLo: null, portHi: null };
  const r = portRange(first(o).replace('-', ':'));
  return r ? { addrLo: null, addrHi: null, portLo: r[0], portHi: r[1] } : null;
}

export function compileTarget(
  target: Target | null,
  family: IpFamily,
  isUserChain: (name: string) => boolean,
): CompiledTarget {
  if (!target) return { kind: 'continue', name: null };
  const name = target.name;
  const opt = (n: string): Option | undefined => target.options.find((o) => o.name === n);
  if (isUserChain(name)) return { kind: 'chain', chain: name, goto: target.goto };
  switch (name) {
    case 'ACCEPT':
      return { kind: 'accept' };
    case 'DROP':
      return { kind: 'drop' };
    case 'RETURN':
      return { kind: 'return' };
    case 'REJECT': {
      const raw = first(opt('--reject-with')) || (family === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable');
      const w = REJECT_ALIASES[raw] ?? raw;
      if (!(family === 4 ? REJECT4 : REJECT6).has(w)) return { kind: 'unknown', why: `-j REJECT --reject-with ${raw}` };
      return { kind: 'reject', with: w };
    }
    case 'MARK': {
      for (const o of target.options) {
        const v = parseMark(first(o));
        if (!v) return { kind: 'unknown', why: `-j MARK ${o.name} ${first(o)}` };
        switch (o.name) {
          case '--set-xmark':
            return { kind: 'mark', value: v.value, mask: v.mask };
          case '--set-mark':
            return { kind: 'mark', value: v.value, mask: (v.mask | v.value) >>> 0 };
          case '--and-mark':
            return { kind: 'mark', value: 0, mask: ~v.value >>> 0 };
          case '--or-mark':
            return { kind: 'mark', value: v.value, mask: v.value };
          case '--xor-mark':
            return { kind: 'mark', value: v.value, mask: 0 };
          default:
            return { kind: 'unknown', why: `-j MARK ${o.name}` };
        }
      }
      return { kind: 'unknown', why: '-j MARK without an operation' };
    }
    case 'CONNMARK': {
      const masks = (): { nfmask: number; ctmask: number } | null => {
        const nf = opt('--nfmask') ? parseMark(first(opt('--nfmask'))) : { value: 0xffffffff, mask: 0 };
        const ct = opt('--ctmask') ? parseMark(first(opt('--ctmask'))) : { value: 0xffffffff, mask: 0 };
        const mask = opt('--mask') ? parseMark(first(opt('--mask'))) : null;
        if (!nf || !ct) return null;
        return mask ? { nfmask: mask.value, ctmask: mask.value } : { nfmask: nf.value, ctmask: ct.value };
      };
      if (opt('--save-mark')) {
        const m = masks();
        return m ? { kind: 'connmark', op: 'save', ...m } : { kind: 'unknown', why: '-j CONNMARK --save-mark' };
      }
      if (opt('--restore-mark')) {
        const m = masks();
        return m ? { kind: 'connmark', op: 'restore', ...m } : { kind: 'unknown', why: '-j CONNMARK --restore-mark' };
      }
      const setx = opt('--set-xmark') ?? opt('--set-mark');
      const v = setx ? parseMark(first(setx)) : null;
      if (!setx || !v) return { kind: 'unknown', why: `-j CONNMARK ${target.options.map((o) => o.name).join(' ')}` };
      return {
        kind: 'connmark',
        op: 'set',
        value: v.value,
        mask: setx.name === '--set-mark' ? (v.mask | v.value) >>> 0 : v.mask,
      };
    }
    case 'NOTRACK':
      return { kind: 'notrack' };
    case 'CT': {
      if (opt('--notrack')) return { kind: 'notrack' };
      return { kind: 'continue', name: 'CT' };
    }
    case 'DNAT':
    case 'SNAT': {
      const tos = target.options.filter(
        (o) => o.name === (name === 'DNAT' ? '--to-destination' : '--to-source') || o.name === '--to',
      );
      if (tos.length !== 1) return { kind: 'unknown', why: `-j ${name} with ${tos.length} --to ranges` };
      const range = parseNatRange(first(tos[0]), family);
      if (!range) return { kind: 'unknown', why: `-j ${name} ${first(tos[0])}` };
      return name === 'DNAT' ? { kind: 'dnat', range } : { kind: 'snat', range };
    }
    case 'MASQUERADE':
    case 'REDIRECT': {
      const range = portsOnly(opt('--to-ports'));
      if (!range) return { kind: 'unknown', why: `-j ${name} --to-ports ${first(opt('--to-ports'))}` };
      return name === 'MASQUERADE' ? { kind: 'masquerade', range } : { kind: 'redirect', range };
    }
    case 'SET': {
      const ops: Array<{ op: 'add' | 'del'; set: string; flags: SetFlags }> = [];
      for (const o of target.options) {
        if (o.name === '--add-set' || o.name === '--del-set') {
          const flags = parseSetFlags(o.args[1]?.value ?? '');
          const set = o.args[0]?.value;
          if (!flags || set === undefined)
            return { kind: 'unknown', why: `-j SET ${o.name} ${o.args.map((a) => a.value).join(' ')}` };
          ops.push({ op: o.name === '--add-set' ? 'add' : 'del', set, flags });
        } else if (o.name === '--map-mark') {
          return { kind: 'unknown', why: "-j SET --map-set --map-mark (the packet's mark from a member's skbmark)" };
        } else if (!['--exist', '--timeout', '--map-set', '--map-prio', '--map-queue'].includes(o.name)) {
          return { kind: 'unknown', why: `-j SET ${o.name}` };
        }
      }
      return { kind: 'ipset', ops };
    }
    case 'NETMAP': {
      const cidr = parseCidr(first(opt('--to')));
      if (!cidr || cidr.family !== family) return { kind: 'unknown', why: `-j NETMAP --to ${first(opt('--to'))}` };
      return { kind: 'netmap', prefix: cidr.prefix, network: cidr.network };
    }
    default:
      if (CONTINUE.has(name)) return { kind: 'continue', name };
      return { kind: 'unknown', why: `-j ${name} (virtables does not evaluate this target)` };
  }
}
