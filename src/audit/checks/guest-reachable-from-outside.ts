// guest-reachable-from-outside: outside hosts can start connections to guests — routed
// networks by design, a DNAT port forward with a FORWARD accept (the lab's query 5, the
// XenServer seed), or an ACCEPT above libvirt's REJECT. Info when the mode intends it.

import { acceptedBy, arrived, stepRule } from '../legs.js';
import { finding, type Finding } from '../types.js';
import { atLine, networkLabel, deleteCommand } from '../words.js';
import type { Mode, Check } from '../context.js';

const INTENDED: ReadonlySet<Mode> = new Set<Mode>(['route', 'open', 'bridge', 'xen-bridge', 'xen-route']);

export const guestReachableFromOutside: Check = {
  id: 'guest-reachable-from-outside',
  severity: 'warning',
  summary: 'outside hosts can start connections to guests',
  docs: 'docs/checks/guest-reachable-from-outside.md',
  run(ctx) {
    const out: Finding[] = [];
    const probes = ctx.probes();
    if (!probes) return out;
    for (const s of probes.subjects) {
      if (!ctx.hasRules(s.network)) continue;
      const mode = ctx.modeOf(s.network);
      const intended = mode !== null && INTENDED.has(mode);
      const r = probes.in(s);
      if (!arrived(r, s.endpoint)) continue;
      const accept = stepRule(acceptedBy(probes!.detail(r).request, 'filter', 'FORWARD'));
      out.push(
        finding(guestReachableFromOutside, {
          severity: intended ? 'info' : 'warning',
          network: s.network.name,
          message: `outside hosts can start connections to guests of ${networkLabel(s.network)} (tcp 22 from ${probes.uplink} reaches a guest, ${accept ? `accepted by ${atLine(accept)}` : 'accepted by the FORWARD policy'})${intended ? `: ${mode} mode means exactly that; the outside router needs a route to the subnet, and the guests need their own firewalls` : `, though a ${mode ?? 'virtual'} network should not let them`}`,
          fix: intended
            ? 'nothing, if intended; to limit it, insert rules before libvirt\'s FORWARD accept that drop what guests must not receive'
            : accept
              ? `remove or narrow the accepting rule (\`${deleteCommand(accept)}\`) so libvirt's REJECT for ${s.bridge} decides`
              : `restore libvirt's REJECT for ${s.bridge} (restart the network) or set \`iptables -P FORWARD DROP\``,
          location: accept ? ctx.location(accept) : ctx.definitionLocation(s.network),
        }),
      );
    }
    for (const pf of probes.portForwards) {
      if (!arrived(pf.result, pf.endpoint)) continue;
      const mode = ctx.modeOf(pf.subject.network);
      const intended = mode !== null && INTENDED.has(mode);
      const accept = stepRule(acceptedBy(pf.result.request, 'filter', 'FORWARD'));
      out.push(
        finding(guestReachableFromOutside, {
          severity: intended ? 'info' : 'warning',
          network: pf.subject.network.name,
          message: `the port forward ${atLine(pf.rule)} lets outside hosts start connections to a guest of ${networkLabel(pf.subject.network)} (${pf.proto} ${pf.dport} on ${pf.address}${accept ? `, forwarded by ${atLine(accept)}` : ''}) — seed lab query 5: the guest is exposed on that port, and only on that port`,
          fix: `if intended, restrict it to the sources that need it (\`-s\` on the DNAT and FORWARD rules); otherwise delete the DNAT: \`${deleteCommand(pf.rule)}\``,
          location: ctx.location(pf.rule),
          related: accept ? [{ ...ctx.location(accept), message: 'lets the forwarded connection through' }] : [],
        }),
      );
    }
    return out;
  },
};
