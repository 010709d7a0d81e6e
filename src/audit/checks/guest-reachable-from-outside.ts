// guest-reachable-from-outside: outside hosts can start connections to guests — routed
// networks by design (and a nat network's IPv6, which libvirt routes), a DNAT port forward
// with a FORWARD accept (the lab's query 5, the XenServer seed), or an ACCEPT above libvirt's
// REJECT. Judged per family: a dual-stack network closed on IPv4 and open on IPv6 is reported
// for IPv6 only. Info when the mode intends it.

import { acceptedAt, deleteHint, nftDeleteHint, ruleLocation, ruleWords, type Accepted } from '../accepted.js';
import { isNftRule } from '../../model/nft.js';
import { arrived } from '../legs.js';
import type { Probes, Subject } from '../probes.js';
import { report, type Finding } from '../types.js';
import { formatCidr } from '../../model/cidr.js';
import { installsRules } from '../../model/network.js';
import { atLine, networkLabel, deleteCommand, familyOfProbes, overFamily } from '../words.js';
import { defineCheck, type AuditContext, type Mode } from '../context.js';

const INTENDED: ReadonlySet<Mode> = new Set<Mode>(['route', 'open', 'bridge', 'xen-bridge', 'xen-route']);

const NFT_CHAIN = 'in a `type filter hook forward` chain';

export const guestReachableFromOutside = defineCheck({
  id: 'guest-reachable-from-outside',
  severity: 'warning',
  summary: 'outside hosts can start connections to guests',
  docs: 'docs/checks/guest-reachable-from-outside.md',
  messages: {
    reachable:
      'outside hosts can start connections to guests of {{network}}{{over}} (tcp 22 from {{uplink}} reaches {{guest}}, {{by}}){{why}}',
    forwarded:
      'the port forward {{rule}} lets outside hosts start connections to a guest of {{network}}{{over}} ({{proto}} {{port}} on {{address}}{{by}}) — seed lab query 5: the guest is exposed on that port, and only on that port',
    ipv6Unchecked:
      "the IPv6 side of {{network}} was not checked: no ip6tables-save was given, and libvirt keeps a network's IPv6 rules there{{routed}}",
    restrictForward:
      'if intended, restrict it to the sources that need it ({{restrict}}); otherwise delete the DNAT: {{deleteDnat}}',
    auditIp6:
      "audit the host's ip6tables-save too (`virtables audit host.save host.ip6.save --net …`; `virtables live` collects both)",
    intendedNft: `nothing, if intended; to limit it, drop what guests must not receive in a chain of your own on the forward hook (e.g. \`nft add rule inet filter forward oifname "{{bridge}}" tcp dport 22 drop\` ${NFT_CHAIN}): a drop there is final whatever libvirt's table accepts`,
    intendedXen:
      'nothing, if intended; to limit it, insert rules before the vif rules that drop what guests must not receive (e.g. `{{tool}} -I FORWARD {{out}} -p tcp --dport 22 -j DROP`)',
    intended:
      "nothing, if intended; to limit it, insert rules before libvirt's FORWARD accept that drop what guests must not receive",
    natIpv6:
      "if the guests must not be reachable over IPv6, NAT it too with `<nat ipv6='yes'/>` in the network's <forward> (libvirt 6.5 and later; `virsh net-edit {{name}}`, then restart the network), or stop new inbound connections above libvirt's rules: {{stopNew}}",
    xenNat:
      "stop new inbound connections to the guests: `iptables -I FORWARD -o {{bridge}} -m conntrack --ctstate NEW -j REJECT` for each vif (replies to the guests' own connections keep working)",
    removeAccept: "remove or narrow the accepting rule (`{{delete}}`) so libvirt's REJECT for {{bridge}} decides",
    removeNftAccept:
      "remove or narrow the accepting rule ({{delete}}) so libvirt's reject for {{bridge}} decides, or restart the network so libvirt restores its guest_input reject",
    restoreNftReject: `restore libvirt's reject for {{bridge}} in table {{table}} libvirt_network (restart the network), or drop new connections to it in a forward-hook chain of your own: \`nft add rule inet filter forward oifname "{{bridge}}" ct state new drop\``,
    restoreReject: "restore libvirt's REJECT for {{bridge}} (restart the network) or set `{{tool}} -P FORWARD DROP`",
  },
  run(ctx): Finding[] {
    const out: Finding[] = [];
    const all = ctx.reachability();
    for (const probes of all) {
      for (const s of probes.subjects) {
        if (!ctx.hasRules(s.network, probes.family)) continue;
        const r = probes.in(s);
        if (!arrived(r, s.endpoint)) continue;
        out.push(reachable(ctx, probes, all.length > 1, s, acceptedAt(ctx, probes.detail(r).request, 'FORWARD')));
      }
      for (const pf of probes.portForwards) {
        if (!arrived(pf.result, pf.endpoint)) continue;
        const mode = ctx.modeOf(pf.subject.network);
        const intended = mode !== null && INTENDED.has(mode);
        const by = acceptedAt(ctx, probes.detail(pf.result).request, 'FORWARD');
        const nft = isNftRule(pf.rule);
        const restrict = nft ? '`ip saddr` on the dnat rule' : '`-s` on the DNAT and FORWARD rules';
        const family = familyOfProbes(probes);
        out.push(
          report(guestReachableFromOutside, {
            severity: intended ? 'info' : 'warning',
            network: pf.subject.network.name,
            family,
            message: 'forwarded',
            fix: 'restrictForward',
            data: {
              rule: ruleWords(pf.rule),
              network: networkLabel(pf.subject.network),
              over: overFamily(probes, all.length > 1),
              proto: pf.proto,
              port: String(pf.dport),
              address: String(pf.address),
              by: by.rule
                ? `, forwarded by ${atLine(by.rule)}`
                : by.nft
                  ? `, ${by.words.replace(/^accepted/, 'forwarded')}`
                  : '',
              restrict,
              deleteDnat: deleteHint(pf.rule, family),
            },
            location: ruleLocation(ctx, pf.rule),
            related: by.location ? [{ ...by.location, message: 'lets the forwarded connection through' }] : [],
          }),
        );
      }
    }
    out.push(...ipv6Unchecked(ctx));
    return out;
  },
});

/**
 * A running network with an IPv6 address on a host whose ip6tables-save was not given: its IPv6
 * side is not judged, and a nat network's IPv6 is routed. Said, so "no findings" does not pass for it.
 */
function ipv6Unchecked(ctx: AuditContext): Finding[] {
  if (!ctx.ipv4 || ctx.ipv6 || ctx.nft) return [];
  return ctx.running.flatMap((n) => {
    if (n.kind !== 'libvirt' || !installsRules(n.forward.mode) || !n.ips.some((ip) => ip.family === 6)) return [];
    const info = ctx.networks.find((x) => x.definition === n);
    if (!info) return [];
    const prefixes = n.ips
      .filter((ip) => ip.family === 6)
      .map((ip) => formatCidr(ip.subnet))
      .join(', ');
    const routed = n.forward.mode === 'route' || (n.forward.mode === 'nat' && n.forward.nat?.ipv6 !== true);
    return [
      report(guestReachableFromOutside, {
        severity: 'info',
        network: n.name,
        family: 'ipv6',
        message: 'ipv6Unchecked',
        fix: 'auditIp6',
        data: {
          network: networkLabel(info),
          routed: routed
            ? ` — ${n.forward.mode === 'nat' ? "a nat network's IPv6 is routed, not NATed" : 'a routed network accepts new connections'}, so outside hosts with a route to ${prefixes} may reach its guests`
            : '',
        },
        location: ctx.definitionLocation(info),
      }),
    ];
  });
}

function reachable(ctx: AuditContext, probes: Probes, dualStack: boolean, s: Subject, by: Accepted): Finding {
  const mode = ctx.modeOf(s.network);
  const intended = mode !== null && INTENDED.has(mode);
  const family = familyOfProbes(probes);
  const tool = family === 'ipv6' ? 'ip6tables' : 'iptables';
  const accept = by.rule;
  const own = accept ? ctx.explainedRule(accept) : undefined;
  // libvirt's own forward-in accept on a nat network's IPv6: routed, by libvirt's design (no <nat ipv6='yes'/>).
  const natRoutedV6 =
    family === 'ipv6' &&
    mode === 'nat' &&
    (by.nft !== null || (own?.purpose === 'forward-in' && own.network === s.network.name));
  const xen = mode === 'xen-nat' || mode === 'xen-bridge' || mode === 'xen-route';
  // Under nft an accept ends only its own chain: a drop in any forward-hook chain is final.
  const nftHost = ctx.flavor.flavor === 'libvirt-nft';
  const onLan = mode === 'bridge' || mode === 'xen-bridge';
  const why = intended
    ? `: ${mode} mode means exactly that; ${onLan ? 'the guests sit on the LAN' : 'the outside router needs a route to the subnet'}, and the guests need their own firewalls`
    : natRoutedV6
      ? `: libvirt routes a nat network's IPv6 rather than NAT it (no <nat ipv6='yes'/>), and its rule accepts every packet to the guests' prefix ${formatCidr(s.subnet)}, new connections too — any outside host with a route to the prefix reaches them`
      : mode === 'xen-nat'
        ? ": network-nat only masquerades what leaves, it adds nothing that stops connections coming in, so any host with a route to the guests' addresses through this host reaches them"
        : `, though a ${mode ?? 'virtual'} network should not let them`;
  const v6Drop = `\`ip6tables -I FORWARD -o ${s.bridge} -m conntrack --ctstate NEW -j REJECT\``;
  const fix = intended
    ? nftHost
      ? 'intendedNft'
      : xen
        ? 'intendedXen'
        : 'intended'
    : natRoutedV6
      ? 'natIpv6'
      : mode === 'xen-nat'
        ? 'xenNat'
        : accept
          ? 'removeAccept'
          : by.nft
            ? 'removeNftAccept'
            : nftHost
              ? 'restoreNftReject'
              : 'restoreReject';
  return report(guestReachableFromOutside, {
    severity: intended ? 'info' : 'warning',
    network: s.network.name,
    family,
    message: 'reachable',
    fix,
    data: {
      network: networkLabel(s.network),
      over: overFamily(probes, dualStack),
      uplink: probes.uplink,
      guest: s.vif ? `${s.endpoint} on ${s.vif}` : 'a guest',
      by: by.words,
      why,
      bridge: s.bridge,
      tool,
      out: mode === 'xen-bridge' ? `-m physdev --physdev-out ${s.vif ?? s.bridge}` : `-o ${s.bridge}`,
      name: s.network.name,
      stopNew: nftHost
        ? `\`nft add rule inet filter forward oifname "${s.bridge}" ct state new reject\` ${NFT_CHAIN} of your own`
        : v6Drop,
      delete: accept ? deleteCommand(accept, family) : by.nft ? nftDeleteHint(by.nft) : '',
      table: family === 'ipv6' ? 'ip6' : 'ip',
    },
    location: by.location ?? ctx.definitionLocation(s.network),
  });
}
