// masquerade-missing: a NAT network whose guests leave with their private addresses: no
// MASQUERADE (or SNAT) for its subnet takes effect on the way out, so replies never find
// their way back (the outside has no route to the subnet) or leak the private range.

import { formatHost } from '../../model/cidr.js';
import { nftRuleLocation } from '../nft-location.js';
import { defineCheck } from '../context.js';
import { report, type Finding } from '../types.js';
import { networkLabel, shellQuote } from '../words.js';

const NAT_PURPOSES = new Set(['masquerade', 'masquerade-ports', 'snat', 'snat-ports']);

export const masqueradeMissing = defineCheck({
  id: 'masquerade-missing',
  severity: 'error',
  summary: "a NAT network's guests leave with their own private addresses",
  docs: 'docs/checks/masquerade-missing.md',
  messages: {
    leaves: '{{network}} is a NAT network, but {{why}}: {{effect}}',
    privateSeen: 'outside hosts see (and answer) a private address they have no route to',
    ownSeen6:
      "outside hosts see the guest's own address, which <nat ipv6='yes'/> is there to hide; unless the prefix is routed to this host, their answers are lost",
    restart:
      'restart the network so libvirt re-adds its NAT rules (`virsh net-destroy {{name}} && virsh net-start {{name}}`), or by hand: `{{command}}`',
  },
  run(ctx): Finding[] {
    const out: Finding[] = [];
    for (const probes of ctx.reachability())
      for (const s of probes.subjects) {
        if (ctx.modeOf(s.network) !== 'nat') continue;
        const def = s.network.definition?.kind === 'libvirt' ? s.network.definition : null;
        // A nat network's IPv6 is routed, not masqueraded, unless <nat ipv6='yes'/> (libvirt 6.5+).
        if (s.family === 6 && !def?.forward.nat?.ipv6) continue;
        const family = s.family === 6 ? 'ipv6' : 'ipv4';
        const nftFamily = s.family === 6 ? 'ip6' : 'ip';
        const mine = ctx.rulesOf(s.network.name).filter((e) => e.purpose !== null && e.family === family);
        const nftMine = ctx.nftRulesOf(s.network.name).filter((e) => e.purpose !== null && e.rule.family === nftFamily);
        if (mine.length === 0 && nftMine.length === 0) continue;
        const nft = mine.length === 0;
        const r = probes.out(s);
        const seen = r.request.seen;
        let why: string | null = null;
        if (r.request.verdict === 'delivered' && seen && seen.src === s.guest.value) {
          why = `a connection to the outside arrives there from ${formatHost(s.family, seen.src)}, the guest's own address: ${nft ? 'no masquerade or snat in a nat chain on the postrouting hook replaces it' : 'nothing in nat POSTROUTING replaces it'}`;
        } else if (
          r.request.verdict !== 'delivered' &&
          ![...mine, ...nftMine].some((e) => NAT_PURPOSES.has(e.purpose!))
        ) {
          why = `the ${nft ? 'nft ruleset has no masquerade or snat' : 'dump has no MASQUERADE or SNAT'} rule for ${formatHost(s.family, s.subnet.network)}/${s.subnet.prefix}`;
        }
        if (!why) continue;
        const forwardOut = mine.find((e) => e.purpose === 'forward-out');
        const nftForwardOut = nftMine.find((e) => e.purpose === 'forward-out');
        const subnet = `${formatHost(s.family, s.subnet.network)}/${s.subnet.prefix}`;
        out.push(
          report(masqueradeMissing, {
            network: s.network.name,
            message: 'leaves',
            fix: 'restart',
            data: {
              network: networkLabel(s.network),
              why,
              effect: masqueradeMissing.messages[s.family === 6 ? 'ownSeen6' : 'privateSeen'],
              name: shellQuote(s.network.name),
              command: nft
                ? `nft add rule ${nftFamily} libvirt_network guest_nat ${nftFamily} saddr ${subnet} ${nftFamily} daddr != ${subnet} masquerade`
                : `${s.family === 6 ? 'ip6tables' : 'iptables'} -t nat -A ${ctx.flavor.flavor === 'libvirt' ? 'LIBVIRT_PRT' : 'POSTROUTING'} -s ${subnet} ! -d ${subnet} -j MASQUERADE`,
            },
            location: forwardOut
              ? ctx.location(forwardOut.rule)
              : nftForwardOut && ctx.nft
                ? nftRuleLocation(ctx.nft, nftForwardOut.rule)
                : ctx.definitionLocation(s.network),
          }),
        );
      }
    return out;
  },
});
