// A plain-English sentence for any rule, from its matches and target alone: the fallback for
// rules no virtual network explains (the host's own, Docker's, ufw's, unknown modules).
// Never blank: an unknown module is quoted as written.

import { formatCidr } from '../model/cidr.js';
import type { Match, Option, Rule } from '../model/dump.js';

function values(o: Option): string {
  return o.args.map((a) => a.value).join(' ');
}

function neg(o: { negated: boolean }, word = 'not '): string {
  return o.negated ? word : '';
}

/** What a chain sees, with a slot for the protocol ("tcp packets for the host"). */
const SUBJECTS: Readonly<Record<string, string>> = {
  'filter/INPUT': '%packets for the host',
  'filter/FORWARD': 'forwarded %packets',
  'filter/OUTPUT': '%packets the host sends',
  'nat/PREROUTING': 'new incoming %connections',
  'nat/OUTPUT': 'new %connections the host starts',
  'nat/POSTROUTING': 'new outgoing %connections',
  'nat/INPUT': 'new %connections to the host',
  'mangle/PREROUTING': 'incoming %packets',
  'mangle/INPUT': '%packets for the host',
  'mangle/FORWARD': 'forwarded %packets',
  'mangle/OUTPUT': '%packets the host sends',
  'mangle/POSTROUTING': 'outgoing %packets',
  'raw/PREROUTING': 'incoming %packets',
  'raw/OUTPUT': '%packets the host sends',
};

function portPhrase(o: Option, direction: 'to' | 'from'): string {
  const v = values(o);
  const several = /[,:]/.test(v);
  return `${neg(o)}${direction} port${several ? 's' : ''} ${v}`;
}

function matchPhrases(m: Match): string[] {
  const out: string[] = [];
  for (const o of m.options) {
    const v = values(o);
    switch (o.name) {
      case '--dport':
      case '--destination-port':
      case '--dports':
      case '--destination-ports':
        out.push(portPhrase(o, 'to'));
        break;
      case '--sport':
      case '--source-port':
      case '--sports':
      case '--source-ports':
        out.push(portPhrase(o, 'from'));
        break;
      case '--ports':
        out.push(`${neg(o)}from or to ports ${v}`);
        break;
      case '--state':
      case '--ctstate':
        out.push(`${neg(o)}in connection state ${v}`);
        break;
      case '--icmp-type':
      case '--icmpv6-type':
        out.push(v === 'any' ? `${neg(o)}of any ICMP type` : `${neg(o)}of ICMP type ${v}`);
        break;
      case '--physdev-in':
        out.push(`${neg(o)}bridged in from port ${v}`);
        break;
      case '--physdev-out':
        out.push(`${neg(o)}bridged out to port ${v}`);
        break;
      case '--physdev-is-bridged':
        out.push(o.negated ? 'not bridged' : 'being bridged');
        break;
      case '--comment':
        out.push(`(commented "${v}")`);
        break;
      case '--src-range':
        out.push(`${neg(o)}from addresses ${v}`);
        break;
      case '--dst-range':
        out.push(`${neg(o)}to addresses ${v}`);
        break;
      case '--mac-source':
        out.push(`${neg(o)}from MAC ${v}`);
        break;
      case '--limit':
        out.push(`at most ${v}`);
        break;
      case '--limit-burst':
        break;
      case '--tcp-flags':
        out.push(
          v === 'FIN,SYN,RST,ACK SYN' ? `${neg(o)}opening a TCP connection (SYN)` : `${neg(o)}with TCP flags ${v}`,
        );
        break;
      case '--mark':
        out.push(`${neg(o)}with ${m.name === 'connmark' ? 'connection ' : ''}mark ${v}`);
        break;
      case '--src-type':
        out.push(`${neg(o)}from a ${v.toLowerCase()} address`);
        break;
      case '--dst-type':
        out.push(`${neg(o)}to a ${v.toLowerCase()} address`);
        break;
      default:
        out.push(`matching ${o.negated ? '! ' : ''}-m ${m.name} ${o.name}${v ? ` ${v}` : ''}`);
    }
  }
  if (m.options.length === 0 && !['tcp', 'udp', 'icmp', 'icmp6'].includes(m.name)) out.push(`matching -m ${m.name}`);
  return out;
}

function targetPhrase(rule: Rule): string {
  const t = rule.target;
  if (!t) return 'are only counted (the rule has no target)';
  const opt = (name: string): string | undefined => {
    const o = t.options.find((x) => x.name === name);
    return o ? values(o) : undefined;
  };
  switch (t.name) {
    case 'ACCEPT':
      return 'are accepted';
    case 'DROP':
      return 'are dropped silently';
    case 'REJECT':
      return `are rejected (${opt('--reject-with') ?? 'icmp-port-unreachable'})`;
    case 'RETURN':
      return 'return to the calling chain';
    case 'LOG':
      return `are logged${opt('--log-prefix') !== undefined ? ` with prefix "${opt('--log-prefix')}"` : ''} and go on`;
    case 'MASQUERADE':
      return `get the outgoing interface's address${opt('--to-ports') ? ` and a source port in ${opt('--to-ports')}` : ''}`;
    case 'SNAT':
      return `get source address ${opt('--to-source') ?? opt('--to') ?? '?'}`;
    case 'DNAT':
      return `are sent on to ${opt('--to-destination') ?? opt('--to') ?? '?'}`;
    case 'REDIRECT':
      return `are redirected to the host${opt('--to-ports') ? `'s port ${opt('--to-ports')}` : ''}`;
    case 'CHECKSUM':
      return 'get their checksum filled in';
    case 'MARK':
      return `get mark ${opt('--set-xmark') ?? opt('--set-mark') ?? ''}`.trim();
    case 'NOTRACK':
      return 'are not tracked by conntrack';
    case 'QUEUE':
    case 'NFQUEUE':
      return 'are handed to a userspace program';
    default:
      // Without options it is almost always a user chain (extension targets take options).
      if (t.options.length === 0) return `${t.goto ? 'continue in' : 'go through'} chain ${t.name}`;
      return `go to target ${t.name} (${t.options.map((o) => `${o.name}${o.args.length ? ` ${values(o)}` : ''}`).join(' ')})`;
  }
}

/** "forwarded tcp packets from 10.0.0.0/8, to port 22 are accepted" */
export function describeRule(rule: Rule): string {
  const proto =
    rule.protocol && rule.protocol.name !== 'all' ? `${rule.protocol.negated ? 'non-' : ''}${rule.protocol.name} ` : '';
  const subject = (SUBJECTS[`${rule.table}/${rule.chain}`] ?? `%packets in ${rule.table} ${rule.chain}`).replace(
    '%',
    proto,
  );
  const parts: string[] = [];
  if (rule.source) parts.push(`${neg(rule.source)}from ${formatCidr(rule.source)}`);
  if (rule.destination) parts.push(`${neg(rule.destination)}to ${formatCidr(rule.destination)}`);
  if (rule.inInterface) parts.push(`${neg(rule.inInterface)}arriving on ${rule.inInterface.name}`);
  if (rule.outInterface) parts.push(`${neg(rule.outInterface)}leaving by ${rule.outInterface.name}`);
  if (rule.fragment) parts.push(rule.fragment.negated ? 'first fragments only' : 'later fragments');
  for (const m of rule.matches) parts.push(...matchPhrases(m));
  const conditions = parts.length > 0 ? ` ${parts.join(', ')}` : '';
  const all = parts.length === 0 && !proto && rule.target?.name !== 'RETURN' ? 'all ' : '';
  return `${all}${subject}${conditions} ${targetPhrase(rule)}`;
}
