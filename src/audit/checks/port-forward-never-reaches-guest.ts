// port-forward-never-reaches-guest: a DNAT sends outside connections to a guest, but the
// forwarded packet is stopped on its way (the seed lab's query-5 mistake: the FORWARD accept
// appended below libvirt's REJECT). Found by the simulator: the port forward's packet is
// traced, and traced again without the rules that stopped it, to name the accept that comes
// too late. Forwards written in nft (`dnat to` in a host table) are probed the same way; under
// nft an accept ends only its own table's chain, so the finding names the drop or reject that
// wins (libvirt's guest_input reject, a host `inet filter` drop) and where an accept must go.

import type { Family, Rule } from '../../model/dump.js';
import type { Step } from '../../sim/traverse.js';
import { formatRule } from '../../write/save.js';
import { acceptedAt, deleteHint, ruleLocation, ruleWords, stoppedAt, type Stopped } from '../accepted.js';
import { acceptedBy, arrived, stepRule } from '../legs.js';
import type { PortForward } from '../probes.js';
import { defineCheck, type AuditContext } from '../context.js';
import { report, type Finding } from '../types.js';
import { atLine, deleteCommand, familyName, networkLabel, OWNER_NAMES, shellQuote } from '../words.js';

/** Rules removed one decider at a time, until the packet arrives (at most this many). */
const MAX_BLOCKERS = 4;

function insertCommand(rule: Rule, family: Family): string {
  return `${family === 'ipv6' ? 'ip6tables' : 'iptables'} -t ${rule.table} ${formatRule(rule, family).replace(/^-A (\S+)/, '-I $1 1')}`;
}

/** The alternative every fix offers. */
const UNWANTED = '; or delete the DNAT if the forward is not wanted: {{deleteDnat}}';
const BACKEND = '`firewall_backend = "iptables"` in /etc/libvirt/network.conf, restart virtnetworkd';

export const portForwardNeverReachesGuest = defineCheck({
  id: 'port-forward-never-reaches-guest',
  severity: 'warning',
  summary: 'a DNAT port forward sends connections to a guest that the firewall then stops',
  docs: 'docs/checks/port-forward-never-reaches-guest.md',
  messages: {
    acceptTooLate:
      '{{forward}}, but the connection never reaches it: {{decider}} ({{owner}}) {{action}} the forwarded packet in {{chain}}; {{late}} would accept it but comes after it in {{chain}}, too late: rules below a REJECT never see what it rejects — seed lab query 5',
    noAccept:
      '{{forward}}, but the connection never reaches it: {{decider}} ({{owner}}) {{action}} the forwarded packet in {{chain}}; nothing accepts the forwarded connection before it — seed lab query 5',
    stopped:
      '{{forward}}, but the connection never reaches it: {{stop}} ({{owner}}) {{action}} the forwarded packet{{before}}{{otherAccept}}{{libvirtWhy}}',
    undecided: '{{forward}}; whether the connection reaches it is {{why}}',
    moveAccept: "move the accept above libvirt's rules: `{{delete}}`, then `{{insert}}`",
    acceptAbove: `accept the forwarded connection above libvirt's rules, e.g. \`{{tool}} -I FORWARD 1 -d {{guest}} -p {{proto}} --dport {{port}} -j ACCEPT\`${UNWANTED}`,
    acceptInChain: `accept the forwarded connection: \`{{tool}} -I {{chain}} 1 -o {{bridge}} -d {{to}} -p {{proto}} --dport {{port}} -m conntrack --ctstate DNAT -j ACCEPT\`${UNWANTED}`,
    acceptInLibvirt: `nothing outside libvirt's table can undo its reject: accept the forwarded connection in libvirt's own chain ahead of it, {{insert}}, and add it again whenever the network starts (libvirt rebuilds its table then; a network hook, /etc/libvirt/hooks/network, can run it); or let libvirt use its iptables backend (${BACKEND}) and accept it with \`{{tool}} -I LIBVIRT_FWI 1 -o {{bridge}} -p {{proto}} --dport {{port}} -m conntrack --ctstate DNAT -j ACCEPT\`${UNWANTED}`,
    acceptInNftChain: `accept the forwarded connection in that chain before it is {{verdict}}: {{insert}} (and in the file the firewall is loaded from, e.g. /etc/nftables.conf)${UNWANTED}`,
    traceIt:
      'trace it with the state virtables could not read given (`virtables trace --from outside --to ADDRESS --proto PROTO --dport PORT` with --assume or --ipset), or check it on the host with a real connection',
  },
  run(ctx): Finding[] {
    const out: Finding[] = [];
    const all = ctx.reachability();
    for (const probes of all)
      for (const pf of probes.portForwards) {
        const req = pf.result.request;
        if (arrived(pf.result, pf.endpoint) || req.verdict === 'delivered') continue;
        if (req.verdict === 'unknown') {
          out.push(undecided(ctx, pf, all.length > 1));
          continue;
        }
        const decider = req.decidedBy;
        if (!decider) continue;
        const first = stepRule(decider);
        if (!first) {
          // An nft rule or a chain's policy decides: no accept later in an iptables chain to move.
          out.push(reportStopped(ctx, pf, decider, all.length > 1));
          continue;
        }
        // Take the stopping rules out one by one: the FORWARD accept that then lets it through comes too late.
        const removed: Rule[] = [first];
        let late: Rule | null = null;
        for (let i = 0; i < MAX_BLOCKERS; i++) {
          const again = probes.without(pf, removed);
          if (arrived(again, pf.endpoint)) {
            late = stepRule(acceptedBy(again.request, 'filter', 'FORWARD'));
            break;
          }
          const next = stepRule(again.request.decidedBy);
          if (!next || again.request.verdict === 'delivered') break;
          removed.push(next);
        }
        out.push(reportLate(ctx, all.length > 1, pf, first, decider.chain, late));
      }
    return out;
  },
});

/** "a guest of default" or the forwarded-to address. */
function guestWords(pf: PortForward): string {
  return pf.endpoint.startsWith('forwarded-to ')
    ? pf.endpoint.slice('forwarded-to '.length)
    : `a guest of ${pf.subject.network.name}`;
}

/** The forward's family, as dumps name it. */
const familyOf = (pf: PortForward): Family => (pf.subject.family === 6 ? 'ipv6' : 'ipv4');

/** The forward, and its family when it is IPv6 or the host was traced in both. */
function forwardWords(pf: PortForward, dualStack: boolean): string {
  const over = pf.subject.family === 6 || dualStack ? ` over ${familyName(familyOf(pf))}` : '';
  return `the port forward ${ruleWords(pf.rule)} sends ${pf.proto} ${pf.dport} on ${pf.address} to ${guestWords(pf)} (${networkLabel(pf.subject.network)})${over}`;
}

function reportLate(
  ctx: AuditContext,
  dualStack: boolean,
  pf: PortForward,
  decider: Rule,
  chain: string,
  late: Rule | null,
): Finding {
  const family = familyOf(pf);
  const owner = ctx.explainedRule(decider)?.owner ?? 'host';
  const guest = guestWords(pf);
  return report(portForwardNeverReachesGuest, {
    network: pf.subject.network.name,
    family,
    message: late ? 'acceptTooLate' : 'noAccept',
    fix: late ? 'moveAccept' : 'acceptAbove',
    data: {
      forward: forwardWords(pf, dualStack),
      decider: atLine(decider),
      owner: OWNER_NAMES[owner],
      action: pf.result.request.verdict === 'dropped' ? 'drops' : 'rejects',
      chain,
      late: late ? atLine(late) : '',
      delete: late ? deleteCommand(late, family) : '',
      insert: late ? insertCommand(late, family) : '',
      tool: family === 'ipv6' ? 'ip6tables' : 'iptables',
      guest: guest.startsWith('a guest') ? 'GUEST' : guest,
      proto: pf.proto,
      port: String(pf.toPort),
      deleteDnat: deleteHint(pf.rule, family),
    },
    location: ruleLocation(ctx, pf.rule),
    related: [
      {
        ...ctx.location(decider),
        message: `${pf.result.request.verdict === 'dropped' ? 'drops' : 'rejects'} the forwarded connection`,
      },
      ...(late ? [{ ...ctx.location(late), message: 'accepts it, too late' }] : []),
    ],
  });
}

/** The nft rule that would let the forwarded connection through, in the chain that stops it. */
function nftAccept(pf: PortForward, bridge: string): string {
  return `oifname "${bridge}" ${pf.subject.family === 6 ? 'ip6' : 'ip'} daddr ${pf.to} ${pf.proto} dport ${pf.toPort} ct status dnat accept`;
}

/** Stopped by an nft rule or policy, or an iptables chain's policy. */
function reportStopped(ctx: AuditContext, pf: PortForward, step: Step, dualStack: boolean): Finding {
  const stop = stoppedAt(ctx, step);
  const action = pf.result.request.verdict === 'dropped' ? 'drops' : 'rejects';
  const nft = step.table.includes(' ');
  // An accept the trace met on the forward hook in another table: it decided only its own chain.
  const accept = nft ? acceptedAt(ctx, pf.result.request, 'FORWARD') : null;
  const acceptText =
    accept?.nft && accept.nft.table !== step.table
      ? `; ${accept.words.replace(/^accepted by /, '')} accepts it, but under nftables an accept ends only its own table's chain: every base chain on the forward hook still runs, and a drop or reject in any of them is final`
      : '';
  const words = {
    forward: forwardWords(pf, dualStack),
    stop: stop.words,
    owner: OWNER_NAMES[stop.owner],
    action,
    before: nft ? '' : ' and nothing accepts it before',
    otherAccept: acceptText,
    libvirtWhy:
      stop.owner === 'libvirt'
        ? ": libvirt's nftables table lets no new connection from outside into a NAT or isolated network's guests"
        : '',
  };
  const advice = fixStopped(pf, step, stop);
  return report(portForwardNeverReachesGuest, {
    network: pf.subject.network.name,
    family: familyOf(pf),
    message: 'stopped',
    fix: advice.fix,
    data: { ...words, ...advice.data },
    location: ruleLocation(ctx, pf.rule),
    related: stop.location ? [{ ...stop.location, message: `${action} the forwarded connection` }] : [],
  });
}

function fixStopped(
  pf: PortForward,
  step: Step,
  stop: Stopped,
): { fix: 'acceptInChain' | 'acceptInLibvirt' | 'acceptInNftChain'; data: Record<string, string> } {
  const bridge = pf.subject.bridge;
  const data = {
    tool: pf.subject.family === 6 ? 'ip6tables' : 'iptables',
    chain: step.chain,
    bridge,
    to: String(pf.to),
    proto: pf.proto,
    port: String(pf.toPort),
    insert: `\`nft insert rule ${step.table} ${shellQuote(step.chain)} ${nftAccept(pf, bridge)}\``,
    verdict: pf.result.request.verdict,
    deleteDnat: deleteHint(pf.rule, familyOf(pf)),
  };
  if (!step.table.includes(' ')) return { fix: 'acceptInChain', data };
  return { fix: stop.owner === 'libvirt' ? 'acceptInLibvirt' : 'acceptInNftChain', data };
}

/** The simulator cannot tell whether the forward reaches its guest: said, never silent. */
function undecided(ctx: AuditContext, pf: PortForward, dualStack: boolean): Finding {
  const why = pf.result.request.reason;
  return report(portForwardNeverReachesGuest, {
    severity: 'info',
    network: pf.subject.network.name,
    family: familyOf(pf),
    message: 'undecided',
    fix: 'traceIt',
    data: { forward: forwardWords(pf, dualStack), why: why.startsWith('unknown') ? why : `unknown because ${why}` },
    location: ruleLocation(ctx, pf.rule),
  });
}
