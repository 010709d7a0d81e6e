// A plain-English sentence for any nft rule, from its statements alone: the fallback for rules no
// virtual network explains (the host's own, firewalld's, Docker's). Never blank: a statement
// virtables does not understand is quoted and called unknown.

import type { NftChain, NftExpr, NftRule, NftStatement } from '../model/nft.js';
import { firstUnknown } from '../model/nft.js';
import { formatExpr, formatStatement } from '../write/nft-text.js';

/** What a base chain sees, by type and hook. */
const SUBJECTS: Readonly<Record<string, string>> = {
  'filter/input': 'packets for the host',
  'filter/forward': 'forwarded packets',
  'filter/output': 'packets the host sends',
  'filter/prerouting': 'incoming packets',
  'filter/postrouting': 'outgoing packets',
  'filter/ingress': 'packets arriving on the device',
  'filter/egress': 'packets leaving by the device',
  'nat/prerouting': 'new incoming connections',
  'nat/input': 'new connections to the host',
  'nat/output': 'new connections the host starts',
  'nat/postrouting': 'new outgoing connections',
  'route/output': 'packets the host sends',
};

const text = (e: NftExpr, family: NftRule['family']): string => formatExpr(e, { family, type: null, mapType: null });

function condition(s: Extract<NftStatement, { kind: 'match' }>, family: NftRule['family']): string {
  const not = s.op === '!=' ? 'not ' : '';
  const l = s.left;
  const r = s.right;
  if (l.kind === 'meta' && (l.key === 'iif' || l.key === 'iifname')) return `${not}arriving on ${text(r, family)}`;
  if (l.kind === 'meta' && (l.key === 'oif' || l.key === 'oifname')) return `${not}leaving by ${text(r, family)}`;
  if (l.kind === 'meta' && l.key === 'l4proto' && s.op === '==') return text(r, family);
  if (
    l.kind === 'payload' &&
    (l.field === 'saddr' || l.field === 'daddr') &&
    (l.protocol === 'ip' || l.protocol === 'ip6')
  )
    return `${not}${l.field === 'saddr' ? 'from' : 'to'} ${text(r, family)}`;
  if (l.kind === 'payload' && (l.field === 'dport' || l.field === 'sport')) {
    const proto = l.protocol === 'th' ? '' : `${l.protocol} `;
    return `${not}${proto}${l.field === 'dport' ? 'to' : 'from'} port ${text(r, family)}`;
  }
  if (l.kind === 'ct' && l.key === 'state')
    return s.op === '!' || s.op === '!='
      ? `connection state not ${text(r, family)}`
      : `connection state ${text(r, family)}`;
  return `where ${formatStatement(s, family)}`;
}

function action(s: NftStatement, family: NftRule['family']): string | null {
  switch (s.kind) {
    case 'verdict':
      return {
        accept: 'are accepted (by this chain; other base chains on the hook still run)',
        drop: 'are dropped silently',
        continue: 'go on to the next rule',
        return: 'return to the calling chain',
        jump: `go through chain ${s.target}`,
        goto: `continue in chain ${s.target} (not coming back)`,
      }[s.verdict];
    case 'reject':
      return `are rejected (${s.type === 'tcp reset' ? 'tcp reset' : `${s.type} ${s.code}`})`;
    case 'nat':
      if (s.nat === 'masquerade')
        return `get the outgoing interface's address${s.port ? ` and a source port in ${text(s.port, family)}` : ''}`;
      if (s.nat === 'redirect') return `are redirected to the host${s.port ? `'s port ${text(s.port, family)}` : ''}`;
      return `${s.nat === 'snat' ? 'get source address' : 'are sent on to'} ${s.addr ? text(s.addr, family) : ''}${s.port ? `:${text(s.port, family)}` : ''}`;
    case 'vmap':
      return `get the verdict ${text(s.key, family)} selects from ${text(s.data, family)}`;
    case 'queue':
      return 'are handed to a userspace program';
    case 'log':
      return `are logged${s.prefix !== null ? ` with prefix "${s.prefix}"` : ''}`;
    case 'mangle':
      return `get ${text(s.key, family)} set to ${text(s.value, family)}`;
    case 'notrack':
      return 'are not tracked by conntrack';
    case 'set':
      return `are added to set @${s.set}`;
    default:
      return null;
  }
}

/** "forwarded packets tcp to port 22, from 10.0.0.0/8 are accepted" */
export function describeNftRule(rule: NftRule, chain: NftChain | null): string {
  const unknown = firstUnknown(rule);
  if (unknown) {
    const what =
      unknown.kind === 'xt'
        ? `xt ${unknown.type} ${unknown.name} (iptables-nft; its options are only in iptables-save)`
        : unknown.what;
    return `does something virtables does not understand: ${what}; what this rule decides is unknown`;
  }
  const subject = chain?.base
    ? (SUBJECTS[`${chain.base.type}/${chain.base.hook}`] ?? `packets at ${chain.base.hook}`)
    : `packets in chain ${rule.chain}`;
  const conditions: string[] = [];
  const actions: string[] = [];
  for (const s of rule.statements) {
    if (s.kind === 'match') conditions.push(condition(s, rule.family));
    else if (s.kind !== 'counter' && s.kind !== 'limit' && s.kind !== 'quota') {
      const a = action(s, rule.family);
      if (a) actions.push(a);
    }
  }
  const what = actions.length > 0 ? actions.join(', then ') : 'are counted and go on';
  const all = conditions.length === 0 ? 'all ' : '';
  return `${all}${subject}${conditions.length > 0 ? ` ${conditions.join(', ')}` : ''} ${what}`;
}
