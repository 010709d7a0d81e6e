// guest-reachable-from-outside: outside hosts can start connections to guests — routed
// networks by design, a DNAT port forward with a FORWARD accept (the lab's query 5, the
// XenServer seed), or an ACCEPT above libvirt's REJECT. Info when the mode intends it.

import { acceptedAt, deleteHint, nftDeleteHint, ruleLocation, ruleWords } from '../accepted.js';
import { isNftRule } from '../../model/nft.js';
import { arrived } from '../legs.js';
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
      const by = acceptedAt(ctx, probes!.detail(r).request, 'FORWARD');
      const accept = by.rule;
      // Under nft an accept ends only its own chain: a drop in any forward-hook chain is final.
      const nftHost = ctx.flavor.flavor === 'libvirt-nft';
      out.push(
        finding(guestReachableFromOutside, {
          severity: intended ? 'info' : 'warning',
          network: s.network.name,
          message: `outside hosts can start connections to guests of ${networkLabel(s.network)} (tcp 22 from ${probes.uplink} reaches a guest, ${by.words})${intended ? `: ${mode} mode means exactly that; the outside router needs a route to the subnet, and the guests need their own firewalls` : `, though a ${mode ?? 'virtual'} network should not let them`}`,
          fix: intended
            ? nftHost
              ? `nothing, if intended; to limit it, drop what guests must not receive in a chain of your own on the forward hook (e.g. \`nft add rule inet filter forward oifname "${s.bridge}" tcp dport 22 drop\` in a \`type filter hook forward\` chain): a drop there is final whatever libvirt's table accepts`
              : 'nothing, if intended; to limit it, insert rules before libvirt\'s FORWARD accept that drop what guests must not receive'
            : accept
              ? `remove or narrow the accepting rule (\`${deleteCommand(accept)}\`) so libvirt's REJECT for ${s.bridge} decides`
              : by.nft
                ? `remove or narrow the accepting rule (${nftDeleteHint(by.nft)}) so libvirt's reject for ${s.bridge} decides, or restart the network so libvirt restores its guest_input reject`
                : nftHost
                  ? `restore libvirt's reject for ${s.bridge} in table ip libvirt_network (restart the network), or drop new connections to it in a forward-hook chain of your own: \`nft add rule inet filter forward oifname "${s.bridge}" ct state new drop\``
                  : `restore libvirt's REJECT for ${s.bridge} (restart the network) or set \`iptables -P FORWARD DROP\``,
          location: by.location ?? ctx.definitionLocation(s.network),
        }),
      );
    }
    for (const pf of probes.portForwards) {
      if (!arrived(pf.result, pf.endpoint)) continue;
      const mode = ctx.modeOf(pf.subject.network);
      const intended = mode !== null && INTENDED.has(mode);
      const by = acceptedAt(ctx, probes.detail(pf.result).request, 'FORWARD');
      const nft = isNftRule(pf.rule);
      const restrict = nft ? '`ip saddr` on the dnat rule' : '`-s` on the DNAT and FORWARD rules';
      out.push(
        finding(guestReachableFromOutside, {
          severity: intended ? 'info' : 'warning',
          network: pf.subject.network.name,
          message: `the port forward ${ruleWords(pf.rule)} lets outside hosts start connections to a guest of ${networkLabel(pf.subject.network)} (${pf.proto} ${pf.dport} on ${pf.address}${by.rule ? `, forwarded by ${atLine(by.rule)}` : by.nft ? `, ${by.words.replace(/^accepted/, 'forwarded')}` : ''}) — seed lab query 5: the guest is exposed on that port, and only on that port`,
          fix: `if intended, restrict it to the sources that need it (${restrict}); otherwise delete the DNAT: ${deleteHint(pf.rule)}`,
          location: ruleLocation(ctx, pf.rule),
          related: by.location ? [{ ...by.location, message: 'lets the forwarded connection through' }] : [],
        }),
      );
    }
    return out;
  },
};
