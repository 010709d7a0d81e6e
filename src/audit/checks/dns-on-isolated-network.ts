// dns-on-isolated-network: an isolated (host-only) network whose guests reach the host's DNS
// while dnsmasq forwards their queries upstream, so names resolve though nothing is forwarded
// (the seed lab's query 4) and DNS can carry data out. Whether it forwards depends on the era:
// libvirt 0.9.4 and later give an isolated network's dnsmasq `no-resolv` (src/engine/dnsmasq.ts).

import {
  isolatedOutsideNames,
  understandsDnsEnable,
  NO_RESOLV_SINCE,
  DNS_ENABLE_SINCE,
  type VersionRange,
} from '../../engine/dnsmasq.js';
import type { Network } from '../../model/network.js';
import { acceptedAt } from '../accepted.js';
import { defineCheck } from '../context.js';
import { report, type Finding } from '../types.js';
import { familyOfProbes, networkLabel, overFamily, shellQuote } from '../words.js';

/** How to close port 53 on the bridge where libvirt's rules live in INPUT (the eras without no-resolv). */
function closePort(bridge: string, tool: string): string {
  const cmd = (proto: string): string => `\`${tool} -I INPUT -i ${bridge} -p ${proto} --dport 53 -j REJECT\``;
  return `refuse port 53 on ${bridge} above libvirt's ACCEPTs: ${cmd('udp')} and ${cmd('tcp')} (${tool === 'ip6tables' ? 'DHCPv6, udp 547' : 'DHCP, udp 67'}, keeps working)`;
}

type FixName = 'removeForwarder' | 'dnsOff' | 'closeOrUpgrade' | 'findRelease';

/**
 * Which fix fits, and its words: a forwarder to remove, DNS to turn off, or port 53 to close, by what the era knows.
 */
function fixFor(
  def: Network | null,
  name: string,
  bridge: string,
  range: VersionRange,
  answer: 'forwards' | 'depends',
  configured: boolean,
  nft: boolean,
  tool: string,
): { fix: FixName; data: Record<string, string> } {
  const data = {
    where: def ? def.origin.file : "the network's XML",
    name: shellQuote(name),
    off:
      understandsDnsEnable(range) === 'yes'
        ? ", or turn its DNS off with `<dns enable='no'/>` (DHCP keeps working)"
        : '',
    acceptStays: nft ? '' : ", and libvirt's port-53 ACCEPT stays but nothing answers",
    close: closePort(bridge, tool),
    noResolvSince: NO_RESOLV_SINCE,
    dnsEnableSince: DNS_ENABLE_SINCE,
    range: range.label,
  };
  if (configured) return { fix: 'removeForwarder', data };
  if (answer === 'forwards') return { fix: understandsDnsEnable(range) === 'yes' ? 'dnsOff' : 'closeOrUpgrade', data };
  return { fix: 'findRelease', data };
}

export const dnsOnIsolatedNetwork = defineCheck({
  id: 'dns-on-isolated-network',
  severity: 'warning',
  summary:
    "an isolated network's guests reach the host's DNS, which resolves outside names for them (libvirt before 0.9.4, or a forwarder)",
  docs: 'docs/checks/dns-on-isolated-network.md',
  messages: {
    reachesDns:
      "{{network}} is isolated, yet its guests reach the host's DNS on {{bridge}}{{over}} (udp 53, {{accept}}) and {{listener}}; {{because}}{{outcome}}",
    removeForwarder:
      "remove the <forwarder addr=…> from the network's <dns> in {{where}} (`virsh net-edit {{name}}`, then restart the network){{off}}",
    dnsOff:
      "add `<dns enable='no'/>` to {{where}} (`virsh net-edit {{name}}`, then restart the network): DHCP keeps working{{acceptStays}}",
    closeOrUpgrade:
      "{{close}}; or upgrade libvirt to {{noResolvSince}} or later, whose dnsmasq refuses outside names on isolated networks. <dns enable='no'/> needs libvirt {{dnsEnableSince}}: {{range}} ignores it",
    findRelease:
      "find the release (`libvirtd --version`) and audit again with --libvirt-version; if it is older than {{noResolvSince}}, {{close}} (<dns enable='no'/> needs libvirt {{dnsEnableSince}})",
  },
  run(ctx): Finding[] {
    const out: Finding[] = [];
    const range = ctx.libvirtRange();
    if (!range) return out;
    const all = ctx.reachability();
    for (const probes of all) {
      const family = familyOfProbes(probes);
      for (const s of probes.subjects) {
        if (ctx.modeOf(s.network) !== 'none') continue;
        // Under the nftables backend libvirt adds no port-53 rule: the host's own INPUT decides, so judge it even then.
        if (!ctx.hasRules(s.network, probes.family) && ctx.flavor.flavor !== 'libvirt-nft') continue;
        const def = s.network.definition?.kind === 'libvirt' ? s.network.definition : null;
        // dnsmasq listens on port 53 unless <dns enable='no'/> (libvirt keeps the ACCEPT even then), where the era
        // knows it.
        if (def && (def.ips.length === 0 || (!def.dns.enable && understandsDnsEnable(range) === 'yes'))) continue;
        const names = isolatedOutsideNames(def, range);
        if (names.answer === 'refuses') continue;
        const r = probes.dns(s);
        if (r.request.verdict !== 'delivered') continue;
        const accept = acceptedAt(ctx, probes.detail(r).request, 'INPUT');
        const listener = def
          ? def.dns.enable
            ? "dnsmasq listens there (DNS is on: no <dns enable='no'/>)"
            : `dnsmasq listens there (${range.label} does not know <dns enable='no'/>, which arrived in ${DNS_ENABLE_SINCE})`
          : "libvirt's dnsmasq listens there unless the network has <dns enable='no'/> (no definition given to tell)";
        const outcome =
          names.answer === 'forwards'
            ? ', so outside names resolve (seed lab query 4) and DNS can tunnel data out'
            : ': if it forwards, outside names resolve (seed lab query 4)';
        const tool = family === 'ipv6' ? 'ip6tables' : 'iptables';
        const forwarder = (def?.dns.forwarders ?? []).some((f) => f.addr !== null);
        const advice = fixFor(
          def,
          s.network.name,
          s.bridge,
          range,
          names.answer,
          forwarder,
          ctx.flavor.flavor === 'libvirt-nft',
          tool,
        );
        out.push(
          report(dnsOnIsolatedNetwork, {
            network: s.network.name,
            family,
            message: 'reachesDns',
            fix: advice.fix,
            data: {
              ...advice.data,
              network: networkLabel(s.network),
              bridge: s.bridge,
              over: overFamily(probes, all.length > 1),
              accept: accept.words,
              listener,
              because: names.because,
              outcome,
            },
            location: accept.location ?? ctx.definitionLocation(s.network),
            related:
              accept.location && def
                ? [{ ...ctx.definitionLocation(s.network)!, message: 'the network definition' }]
                : [],
          }),
        );
      }
    }
    return out;
  },
});
