// port-forward-never-reaches-guest: a DNAT sends outside connections to a guest, but the
// forwarded packet is stopped on its way (the seed lab's query-5 mistake: the FORWARD accept
// appended below libvirt's REJECT). Found by the simulator: the port forward's packet is
// traced, and traced again without the rules that stopped it, to name the accept that comes
// too late.

import type { Family, Rule } from '../../model/dump.js';
import { formatRule } from '../../write/save.js';
import { acceptedBy, arrived, stepRule } from '../legs.js';
import type { PortForward, Probes } from '../probes.js';
import type { Check } from '../context.js';
import { finding, type Finding } from '../types.js';
import { atLine, deleteCommand, familyOfProbes, networkLabel, overFamily, OWNER_NAMES } from '../words.js';

/** Rules removed one decider at a time, until the packet arrives (at most this many). */
const MAX_BLOCKERS = 4;

function insertCommand(rule: Rule, family: Family): string {
  return `${family === 'ipv6' ? 'ip6tables' : 'iptables'} -t ${rule.table} ${formatRule(rule, family).replace(/^-A (\S+)/, '-I $1 1')}`;
}

export const portForwardNeverReachesGuest: Check = {
  id: 'port-forward-never-reaches-guest',
  severity: 'warning',
  summary: 'a DNAT port forward sends connections to a guest that the firewall then stops',
  docs: 'docs/checks/port-forward-never-reaches-guest.md',
  run(ctx) {
    const out: Finding[] = [];
    const all = ctx.reachability();
    for (const probes of all) for (const pf of probes.portForwards) {
      const req = pf.result.request;
      if (arrived(pf.result, pf.endpoint) || req.verdict === 'unknown' || req.verdict === 'delivered') continue;
      const decider = req.decidedBy;
      const first = stepRule(decider);
      if (!decider || !first) continue;
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
      out.push(report(ctx, probes, all.length > 1, pf, first, decider.chain, late));
    }
    return out;
  },
};

function report(ctx: Parameters<Check['run']>[0], probes: Probes, dualStack: boolean, pf: PortForward, decider: Rule, chain: string, late: Rule | null): Finding {
  const family = familyOfProbes(probes);
  const owner = ctx.explainedRule(decider)?.owner ?? 'host';
  const action = pf.result.request.verdict === 'dropped' ? 'drops' : 'rejects';
  const guest = pf.endpoint.startsWith('forwarded-to ') ? pf.endpoint.slice('forwarded-to '.length) : `a guest of ${pf.subject.network.name}`;
  const lateText = late
    ? `; ${atLine(late)} would accept it but comes after it in ${chain}, too late: rules below a REJECT never see what it rejects`
    : `; nothing accepts the forwarded connection before it`;
  return finding(portForwardNeverReachesGuest, {
    network: pf.subject.network.name,
    family,
    message: `the port forward ${atLine(pf.rule)} sends ${pf.proto} ${pf.dport} on ${pf.address} to ${guest} (${networkLabel(pf.subject.network)})${overFamily(probes, dualStack)}, but the connection never reaches it: ${atLine(decider)} (${OWNER_NAMES[owner]}) ${action} the forwarded packet in ${chain}${lateText} — seed lab query 5`,
    fix: late
      ? `move the accept above libvirt's rules: \`${deleteCommand(late, family)}\`, then \`${insertCommand(late, family)}\``
      : `accept the forwarded connection above libvirt's rules, e.g. \`${family === 'ipv6' ? 'ip6tables' : 'iptables'} -I FORWARD 1 -d ${guest.startsWith('a guest') ? 'GUEST' : guest} -p ${pf.proto} --dport ${pf.result.request.seen?.dport ?? pf.dport} -j ACCEPT\`; or delete the DNAT if the forward is not wanted: \`${deleteCommand(pf.rule, family)}\``,
    location: ctx.location(pf.rule),
    related: [{ ...ctx.location(decider), message: `${action} the forwarded connection` }, ...(late ? [{ ...ctx.location(late), message: 'accepts it, too late' }] : [])],
  });
}
