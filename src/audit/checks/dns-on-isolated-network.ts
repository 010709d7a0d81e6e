// dns-on-isolated-network: an isolated (host-only) network whose guests can reach the host's
// DNS. dnsmasq answers and forwards their queries upstream, so names resolve though nothing is
// forwarded — the seed lab's query 4 — and DNS can carry data out of the "isolated" network.

import { acceptedBy, stepRule } from '../legs.js';
import type { Check } from '../context.js';
import { finding, type Finding } from '../types.js';
import { atLine, networkLabel, shellQuote } from '../words.js';

export const dnsOnIsolatedNetwork: Check = {
  id: 'dns-on-isolated-network',
  severity: 'warning',
  summary: "an isolated network's guests can reach the host's DNS, which resolves outside names for them",
  docs: 'docs/checks/dns-on-isolated-network.md',
  run(ctx) {
    const out: Finding[] = [];
    const probes = ctx.probes();
    for (const s of probes?.subjects ?? []) {
      if (ctx.modeOf(s.network) !== 'none') continue;
      // Under the nftables backend libvirt adds no port-53 rule: the host's own INPUT decides, so judge it even then.
      if (!ctx.hasRules(s.network) && ctx.flavor.flavor !== 'libvirt-nft') continue;
      const def = s.network.definition?.kind === 'libvirt' ? s.network.definition : null;
      // dnsmasq listens on port 53 unless <dns enable='no'/> (libvirt keeps the ACCEPT even then).
      if (def && (!def.dns.enable || def.ips.length === 0)) continue;
      const r = probes!.dns(s);
      if (r.request.verdict !== 'delivered') continue;
      const accept = stepRule(acceptedBy(probes!.detail(r).request, 'filter', 'INPUT'));
      const listener = def ? 'dnsmasq listens there (DNS is on: no <dns enable=\'no\'/>)' : "libvirt's dnsmasq listens there unless the network has <dns enable='no'/> (no definition given to tell)";
      out.push(
        finding(dnsOnIsolatedNetwork, {
          network: s.network.name,
          message: `${networkLabel(s.network)} is isolated, yet its guests reach the host's DNS on ${s.bridge} (udp 53${accept ? `, accepted by ${atLine(accept)}` : ', accepted by the INPUT policy'}) and ${listener}: dnsmasq forwards their queries to the host's resolvers, so outside names resolve (seed lab query 4) and DNS can tunnel data out`,
          fix: `turn the network's DNS server off: add \`<dns enable='no'/>\` to ${def ? def.origin.file : `the network's XML`} (\`virsh net-edit ${shellQuote(s.network.name)}\`, then restart the network); DHCP keeps working, and libvirt's port-53 ACCEPT stays but nothing answers. Keep DNS only for local names with forwarders: \`<dns><forwarder domain='…'/></dns>\``,
          location: accept ? ctx.location(accept) : ctx.definitionLocation(s.network),
          related: accept && def ? [{ ...ctx.definitionLocation(s.network)!, message: 'the network definition' }] : [],
        }),
      );
    }
    return out;
  },
};
