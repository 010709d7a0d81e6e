// A short, generic sentence for any rule — its target as a verb, its matches as conditions
// ("accept tcp packets to port 53 arriving on virbr2"). The engine's purpose-specific
// sentences can replace it rule by rule; this is what is said when nothing better is known.

import { formatCidr } from '../model/cidr.js';
import type { Match, Option, Rule } from '../model/dump.js';

const v = (o: Option): string => o.args.map((a) => a.value).join(' ');
const not = (o: { negated: boolean }): string => (o.negated ? 'not ' : '');

function ports(text: string): string {
  return text.includes(',') || text.includes(':') ? `ports ${text.replace(/:/g, '-')}` : `port ${text}`;
}

function describeMatch(m: Match): string[] {
  const out: string[] = [];
  for (const o of m.options) {
    const val = v(o);
    switch (`${m.name} ${o.name}`) {
      case 'tcp --dport': case 'udp --dport': case 'tcp --destination-port': case 'udp --destination-port':
      case 'multiport --dports': case 'multiport --destination-ports':
        out.push(`${not(o)}to ${ports(val)}`); break;
      case 'tcp --sport': case 'udp --sport': case 'tcp --source-port': case 'udp --source-port':
      case 'multiport --sports': case 'multiport --source-ports':
        out.push(`${not(o)}from ${ports(val)}`); break;
      case 'multiport --ports': out.push(`${not(o)}from or to ${ports(val)}`); break;
      case 'tcp --syn': out.push(o.negated ? 'not opening a connection' : 'opening a connection (SYN)'); break;
      case 'tcp --tcp-flags': out.push(`${not(o)}with TCP flags ${o.args[1]?.value ?? ''} of ${o.args[0]?.value ?? ''}`); break;
      case 'icmp --icmp-type': case 'icmp6 --icmpv6-type': out.push(val === 'any' ? 'of any ICMP type' : `${not(o)}of ICMP type ${val}`); break;
      case 'state --state': case 'conntrack --ctstate': out.push(`${not(o)}in state ${val}`); break;
      case 'conntrack --ctorigsrc': out.push(`${not(o)}of connections from ${val}`); break;
      case 'conntrack --ctorigdst': out.push(`${not(o)}of connections to ${val}`); break;
      case 'conntrack --ctdir': out.push(`${not(o)}in the ${val.toLowerCase()} direction`); break;
      case 'physdev --physdev-in': out.push(`${not(o)}entering the bridge by port ${val}`); break;
      case 'physdev --physdev-out': out.push(`${not(o)}leaving the bridge by port ${val}`); break;
      case 'physdev --physdev-is-bridged': out.push(o.negated ? 'not bridged' : 'bridged (not routed)'); break;
      case 'physdev --physdev-is-in': out.push(o.negated ? 'not from a bridge port' : 'from a bridge port'); break;
      case 'physdev --physdev-is-out': out.push(o.negated ? 'not to a bridge port' : 'to a bridge port'); break;
      case 'iprange --src-range': out.push(`${not(o)}from ${val}`); break;
      case 'iprange --dst-range': out.push(`${not(o)}to ${val}`); break;
      case 'mark --mark': out.push(`${not(o)}marked ${val}`); break;
      case 'connmark --mark': out.push(`${not(o)}of connections marked ${val}`); break;
      case 'addrtype --dst-type': out.push(`${not(o)}addressed to a ${val.toLowerCase()} address`); break;
      case 'addrtype --src-type': out.push(`${not(o)}sent from a ${val.toLowerCase()} address`); break;
      case 'limit --limit': out.push(`at most ${val}`); break;
      case 'comment --comment': out.push(`("${val}")`); break;
      case 'mac --mac-source': out.push(`${not(o)}from MAC ${val}`); break;
      case 'pkttype --pkt-type': out.push(`${not(o)}${val}`); break;
      default:
        if (m.name !== 'limit') out.push(`-m ${m.name} ${o.negated ? '! ' : ''}${o.name}${val ? ` ${val}` : ''}`);
    }
  }
  return out;
}

const SHORT_VERBS = /^(accept|drop|reject|count|log)\b/;

const EXTENSION_TARGETS = new Set(['TCPMSS', 'TOS', 'DSCP', 'TTL', 'HL', 'ECN', 'ULOG', 'NFLOG', 'NFQUEUE', 'QUEUE', 'CT', 'TRACE', 'CLASSIFY', 'SET', 'TEE', 'AUDIT', 'SECMARK', 'CONNSECMARK', 'NETMAP', 'TPROXY', 'TCPOPTSTRIP', 'IDLETIMER', 'LED', 'RATEEST', 'SYNPROXY']);

function verb(rule: Rule): string {
  const t = rule.target;
  if (!t) return 'count';
  const opt = (n: string): string | undefined => t.options.find((o) => o.name === n)?.args.map((a) => a.value).join(' ');
  switch (t.name) {
    case 'ACCEPT': return 'accept';
    case 'DROP': return 'drop';
    case 'REJECT': return `reject (${opt('--reject-with') ?? 'icmp-port-unreachable'})`;
    case 'RETURN': return 'return to the calling chain';
    case 'LOG': return 'log';
    case 'MASQUERADE': return `masquerade as the outgoing interface's address${opt('--to-ports') ? ` (ports ${opt('--to-ports')})` : ''}`;
    case 'SNAT': return `rewrite the source to ${opt('--to-source') ?? opt('--to') ?? '?'}`;
    case 'DNAT': return `rewrite the destination to ${opt('--to-destination') ?? opt('--to') ?? '?'}`;
    case 'REDIRECT': return `redirect to the host itself${opt('--to-ports') ? ` (port ${opt('--to-ports')})` : ''}`;
    case 'MARK': return `set mark ${opt('--set-xmark') ?? opt('--set-mark') ?? ''}`.trim();
    case 'CONNMARK': return 'set the connection mark';
    case 'CHECKSUM': return 'fill in the checksum';
    case 'NOTRACK': return 'exempt from connection tracking';
    default: return t.goto ? `go to ${t.name}` : EXTENSION_TARGETS.has(t.name) ? `apply ${t.name}` : `jump to ${t.name}`;
  }
}

/** "accept tcp packets to port 53 arriving on virbr2". */
export function describeRule(rule: Rule): string {
  const parts: string[] = [];
  const proto = rule.protocol && rule.protocol.name !== 'all' ? `${rule.protocol.negated ? 'non-' : ''}${rule.protocol.name} ` : '';
  if (rule.source) parts.push(`${not(rule.source)}from ${formatCidr(rule.source.cidr)}`);
  if (rule.destination) parts.push(`${not(rule.destination)}to ${formatCidr(rule.destination.cidr)}`);
  if (rule.inInterface) parts.push(`${rule.inInterface.negated ? 'not ' : ''}arriving on ${rule.inInterface.name}`);
  if (rule.outInterface) parts.push(`${rule.outInterface.negated ? 'not ' : ''}leaving by ${rule.outInterface.name}`);
  if (rule.fragment) parts.push(rule.fragment.negated ? 'that are not fragments' : 'that are fragments');
  for (const m of rule.matches) parts.push(...describeMatch(m));
  const what = parts.length === 0 && !proto ? 'every packet' : `${proto}packets${parts.length > 0 ? ' ' + parts.join(' ') : ''}`;
  const act = verb(rule);
  // Short verdicts read first ("accept tcp packets …"); longer actions follow their condition.
  return SHORT_VERBS.test(act) ? `${act} ${what}` : `${what}: ${act}`;
}
