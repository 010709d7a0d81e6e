// How iptables 1.8.9 prints each option after a round trip through the kernel: the
// canonical spelling virtables writes, compares and explains. Each entry was checked against
// real `iptables-restore` + `iptables-save` (test/kernel/roundtrip.test.ts).

import type { Arg, Family, Match, Option, Target } from '../model/dump.js';
import { ICMP_TYPES, ICMPV6_TYPES } from '../model/protocols.js';

/** Printed spelling of one option: name, negation and its values (already quoted as needed). */
export interface PrintedOption {
  readonly name: string;
  readonly negated: boolean;
  readonly values: readonly string[];
}

/** xtables_save_string(): bare when only `[A-Za-z0-9_-]`, else double-quoted with `"`, `\` and `'` escaped. */
export function saveString(value: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(value)) return value;
  return `"${value.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

/** A value printed as the input had it: quoted values keep quotes, with `"` and `\` escaped. */
function asWritten(arg: Arg): string {
  return arg.quoted ? `"${arg.value.replace(/["\\]/g, (c) => `\\${c}`)}"` : arg.value;
}

/** Options whose value iptables prints through xtables_save_string(). */
const SAVE_STRING_OPTIONS = new Set(['--comment', '--log-prefix', '--nflog-prefix']);

const CT_STATE_ORDER = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED', 'SNAT', 'DNAT'];
const CT_STATUS_ORDER = ['NONE', 'EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED'];

function orderedList(value: string, order: readonly string[]): string {
  const items = value.split(',').map((s) => s.toUpperCase());
  if (!items.every((i) => order.includes(i))) return value;
  return order.filter((o) => items.includes(o)).join(',');
}

const TCP_FLAGS_ORDER = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];
function tcpFlags(value: string): string {
  const items = value.toUpperCase().split(',');
  if (items.includes('ALL')) return 'FIN,SYN,RST,PSH,ACK,URG';
  if (items.includes('NONE')) return 'NONE';
  if (!items.every((i) => TCP_FLAGS_ORDER.includes(i))) return value;
  return TCP_FLAGS_ORDER.filter((f) => items.includes(f)).join(',');
}

const LOG_LEVELS: Readonly<Record<string, string>> = {
  emerg: '0', alert: '1', crit: '2', error: '3', err: '3', warning: '4', warn: '4', notice: '5', info: '6', debug: '7', panic: '0',
};

// --- limit: the kernel keeps a scaled period, iptables prints it back in the largest exact unit.
const XT_LIMIT_SCALE = 10000;
const RATE_UNITS: ReadonlyArray<{ name: string; mult: number }> = [
  { name: 'day', mult: XT_LIMIT_SCALE * 24 * 60 * 60 },
  { name: 'hour', mult: XT_LIMIT_SCALE * 60 * 60 },
  { name: 'min', mult: XT_LIMIT_SCALE * 60 },
  { name: 'sec', mult: XT_LIMIT_SCALE },
];

function limitRate(value: string): string {
  const m = /^(\d+)(?:\/(second|sec|s|minute|min|m|hour|h|day|d)\w*)?$/.exec(value);
  if (!m) return value;
  const count = Number(m[1]);
  if (count === 0) return value;
  const unit = (m[2] ?? 'sec')[0];
  const mult = unit === 'd' ? 86400 : unit === 'h' ? 3600 : unit === 'm' ? 60 : 1;
  const period = Math.floor((XT_LIMIT_SCALE * mult) / count);
  if (period === 0) return value;
  let i = 1;
  for (; i < RATE_UNITS.length; i++) {
    const u = RATE_UNITS[i]!;
    if (period > u.mult || Math.floor(u.mult / period) < u.mult % period) break;
  }
  const best = RATE_UNITS[i - 1]!;
  return `${Math.floor(best.mult / period)}/${best.name}`;
}

function printed(option: Option, values: readonly string[], name = option.name, negated = option.negated): PrintedOption {
  return { name, negated, values };
}

function plain(option: Option): PrintedOption {
  const values = SAVE_STRING_OPTIONS.has(option.name) ? option.args.map((a) => saveString(a.value)) : option.args.map(asWritten);
  return printed(option, values);
}

const ALIASES: Readonly<Record<string, string>> = {
  '--source-port': '--sport',
  '--destination-port': '--dport',
  '--source-ports': '--sports',
  '--destination-ports': '--dports',
};

const PHYSDEV_ORDER = ['--physdev-is-in', '--physdev-in', '--physdev-is-out', '--physdev-out', '--physdev-is-bridged'];

/** The options of a match as iptables 1.8.9 prints them. */
export function canonicalMatchOptions(match: Match, family: Family): PrintedOption[] {
  const out: PrintedOption[] = [];
  for (const option of match.options) {
    const name = ALIASES[option.name] ?? option.name;
    const first = option.args[0]?.value ?? '';
    if ((match.name === 'state' && name === '--state') || (match.name === 'conntrack' && name === '--ctstate')) {
      out.push(printed(option, [orderedList(first, CT_STATE_ORDER)], name));
    } else if (match.name === 'conntrack' && name === '--ctstatus') {
      out.push(printed(option, [orderedList(first, CT_STATUS_ORDER)], name));
    } else if (match.name === 'tcp' && name === '--syn') {
      out.push(printed(option, ['FIN,SYN,RST,ACK', 'SYN'], '--tcp-flags'));
    } else if (match.name === 'tcp' && name === '--tcp-flags' && option.args.length === 2) {
      out.push(printed(option, [tcpFlags(first), tcpFlags(option.args[1]!.value)], name));
    } else if (match.name === 'icmp' && name === '--icmp-type' && family !== 'ipv6') {
      out.push(printed(option, [ICMP_TYPES[first] ?? first], name));
    } else if (match.name === 'icmp6' && name === '--icmpv6-type') {
      out.push(printed(option, [ICMPV6_TYPES[first] ?? first], name));
    } else if ((match.name === 'limit' && name === '--limit') || (match.name === 'hashlimit' && /^--hashlimit(-upto|-above)?$/.test(name))) {
      out.push(printed(option, [limitRate(first)], name));
    } else if (match.name === 'limit' && name === '--limit-burst' && first === '5') {
      // the default burst is not printed
    } else {
      out.push({ ...plain(option), name });
    }
  }
  if (match.name === 'physdev') {
    // libxt_physdev prints its options in a fixed order, whatever order they were given in
    const rank = (o: PrintedOption): number => PHYSDEV_ORDER.indexOf(o.name);
    out.sort((a, b) => rank(a) - rank(b));
  }
  if (match.name === 'recent' && !match.options.some((o) => o.name === '--mask')) {
    // iptables 1.6+ always prints the mask; dumps from 1.4 omit the default.
    const mask = family === 'ipv6' ? 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' : '255.255.255.255';
    const at = out.findIndex((o) => o.name === '--rsource' || o.name === '--rdest');
    out.splice(at < 0 ? out.length : at, 0, { name: '--mask', negated: false, values: [mask] });
  }
  return out;
}

/** The options of a target as iptables 1.8.9 prints them. */
export function canonicalTargetOptions(target: Target, family: Family): PrintedOption[] {
  const out: PrintedOption[] = [];
  const names = new Set(target.options.map((o) => o.name));
  for (const option of target.options) {
    const first = option.args[0]?.value ?? '';
    if (target.name === 'LOG' && option.name === '--log-level') {
      const level = LOG_LEVELS[first.toLowerCase()] ?? first;
      if (level !== '4') out.push(printed(option, [level]));
    } else if ((target.name === 'DNAT' || target.name === 'SNAT') && option.name === '--to') {
      out.push(printed(option, [first], target.name === 'DNAT' ? '--to-destination' : '--to-source'));
    } else {
      out.push(plain(option));
    }
  }
  if (target.name === 'REJECT' && !names.has('--reject-with')) {
    out.push({ name: '--reject-with', negated: false, values: [family === 'ipv6' ? 'icmp6-port-unreachable' : 'icmp-port-unreachable'] });
  }
  return out;
}
