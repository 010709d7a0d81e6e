// forward-policy-accept-with-ip-forward: FORWARD's policy is ACCEPT while a NAT or routed
// network runs — libvirt turns on net.ipv4.ip_forward for those and never turns it off — so
// the host routes anything its rules do not reject, between any interfaces, for anyone.

import { defineCheck, type AuditContext, type Mode } from '../context.js';
import type { Probes } from '../probes.js';
import { report, type Finding } from '../types.js';
import { atLine, familyOfProbes } from '../words.js';
import { policyLine } from '../conflict.js';
import { nftChainLocation, nftRuleLocation } from '../nft-location.js';
import { nftRuleText } from '../../write/nft-rule.js';
import type { InterfaceMatch } from '../../model/dump.js';

/**
 * The modes whose start turns on the host's IP forwarding: libvirt's nat and route, Xen's network-nat and
 * network-route.
 */
const FORWARDING: ReadonlySet<Mode> = new Set<Mode>(['nat', 'route', 'xen-nat', 'xen-route']);
const forwards = (mode: Mode | null): boolean => mode !== null && FORWARDING.has(mode);
/** Interfaces that are not the host's own links to other networks. */
const VIRTUAL = /^(?:lo|(?:virbr|vnet|docker|xenbr)\d+|virbr\d+-nic|vif\d+\.\d+|br-[0-9a-f]{12})$|^(?:tap|veth|vt-)/;

export const forwardPolicyAcceptWithIpForward = defineCheck({
  id: 'forward-policy-accept-with-ip-forward',
  severity: 'warning',
  summary: 'the host forwards between its interfaces for anyone: FORWARD policy ACCEPT with ip_forward on',
  docs: 'docs/checks/forward-policy-accept-with-ip-forward.md',
  messages: {
    routes:
      '{{networks}} {{verb}}, so {{ipForward}} is on (libvirt enables it and never turns it off), and a connection arriving on {{uplink}} for {{target}}{{family}} is {{decider}}: the host routes for anyone who sends it traffic{{scope}}',
    nftDropChain:
      'give the forward hook a chain that drops what nobody accepts, accepting the networks\' traffic first (libvirt\'s accepts end only its own chain): `nft add table inet filter`, `nft add chain inet filter forward \'{ type filter hook forward priority filter; policy drop; }\'`, then for each bridge ({{bridges}}) `nft add rule inet filter forward iifname "{{bridge}}" accept` and `nft add rule inet filter forward oifname "{{bridge}}" ct state established,related accept`',
    iptablesDropUnderNft:
      "set `{{tool}} -P FORWARD DROP` only after accepting the networks' traffic in {{tool}} too (libvirt's nftables ACCEPTs cannot undo an {{tool}} DROP)",
    iptablesDrop:
      "`{{tool}} -P FORWARD DROP` (libvirt's own ACCEPTs come first and keep the networks working); accept what the host should really route explicitly",
  },
  run(ctx): Finding[] {
    // IPv4's simulated host (whether or not it has subjects), and IPv6's where a network has an IPv6 address;
    // each finding names its family when both families are reported.
    const v6Probes = ctx.reachability().find((p) => p.family === 6);
    const v6 = v6Probes ? judge(ctx, v6Probes, true) : null;
    const v4Probes = ctx.probes();
    const v4 = v4Probes ? judge(ctx, v4Probes, v6 !== null) : null;
    return [v4, v6].filter((f): f is Finding => f !== null);
  },
});

/** The finding for one family's simulated host: its forwarding networks, its FORWARD policy, one probe across. */
function judge(ctx: AuditContext, probes: Probes, tagged: boolean): Finding | null {
  const v6 = probes.family === 6;
  const dump = v6 ? ctx.ipv6 : ctx.ipv4;
  if (!dump && !ctx.nft) return null;
  // libvirt turns on IPv6 forwarding for a nat or routed network with an IPv6 address (networkEnableIPForwarding).
  const forwarding = ctx.networks.filter(
    (n) => !ctx.isInactive(n) && forwards(ctx.modeOf(n)) && (!v6 || n.subnets.some((c) => c.family === 6)),
  );
  if (forwarding.length === 0) return null;
  const policy = dump ? policyLine(ctx, 'filter', 'FORWARD', dump) : null;
  if (policy && policy.chain.policy !== 'ACCEPT') return null;
  // Other links of the host, as its rules name them: a multi-homed host is a router for its LANs.
  const bridges = new Set(ctx.networks.flatMap((n) => (n.bridge ? [n.bridge] : [])));
  const links = new Set<string>();
  const link = (i: InterfaceMatch | null): void => {
    if (i && !i.name.endsWith('+') && !bridges.has(i.name) && !VIRTUAL.test(i.name)) links.add(i.name);
  };
  // Every rule of the host, each interface as it is (no list made per rule).
  const explained = ctx.explained;
  for (let i = 0; i < explained.length; i++) {
    link(explained[i]!.rule.inInterface);
    link(explained[i]!.rule.outInterface);
  }
  // Whether the rules name the uplink at all, or it is the simulator's stand-in name.
  const uplinkNamed = links.has(probes.uplink);
  links.add(probes.uplink);
  // A single-homed host is probed with a stand-in second link; the message does not name it.
  const other = [...links].find((l) => l !== probes.uplink) ?? 'eth1';
  // Two documentation addresses no network holds (RFC 5737; RFC 9637's 3fff::/20).
  const [src, dst] = v6 ? [(0x3fff0113n << 96n) | 0x10n, (0x3fff0100n << 96n) | 0x20n] : [0xcb00710an, 0xc6336414n];
  const { outcome, steps } = probes.hook({
    hook: 'FORWARD',
    inIface: probes.uplink,
    outIface: other,
    src,
    dst,
    dport: 22,
  });
  if (outcome.kind !== 'accept') return null;
  const last = [...steps]
    .reverse()
    .find((s) => (s.table === 'filter' || s.table.includes(' ')) && (s.action === 'accept' || s.action === 'policy'));
  const byRule = last?.action === 'accept' && last.rule ? last.rule.rule : null;
  // An nft chain (its table named with its family) accepted it: by a rule, or by its policy.
  const nftStep = last && last.table.includes(' ') ? last : null;
  const nftWords = nftStep
    ? `accepted by table ${nftStep.table}, chain ${nftStep.chain}${nftStep.rule?.nft ? `, rule \`${nftRuleText(nftStep.rule.nft.rule)}\`` : ' (policy accept)'}`
    : null;
  const nftChain =
    nftStep && ctx.nft
      ? ctx.nft.tables
          .find((t) => `${t.family} ${t.name}` === nftStep.table)
          ?.chains.find((c) => c.name === nftStep.chain)
      : undefined;
  const nftAt =
    nftStep && ctx.nft
      ? nftStep.rule?.nft
        ? nftRuleLocation(ctx.nft, nftStep.rule.nft.rule)
        : nftChain
          ? nftChainLocation(ctx.nft, nftChain)
          : null
      : null;
  const multiHomed = links.size >= 2;
  return report(forwardPolicyAcceptWithIpForward, {
    severity: multiHomed ? 'warning' : 'info',
    network: null,
    ...(tagged ? { family: familyOfProbes(probes) } : {}),
    message: 'routes',
    fix: nftStep ? 'nftDropChain' : ctx.flavor.flavor === 'libvirt-nft' ? 'iptablesDropUnderNft' : 'iptablesDrop',
    data: {
      networks: forwarding.map((n) => n.name).join(', '),
      verb: forwarding.length === 1 ? 'forwards' : 'forward',
      ipForward: v6 ? 'IPv6 forwarding (net.ipv6.conf.all.forwarding)' : 'IP forwarding',
      family: v6 ? ' over IPv6' : '',
      tool: v6 ? 'ip6tables' : 'iptables',
      uplink: probes.uplink,
      target: multiHomed ? other : 'another link',
      decider: nftWords ?? (byRule ? `accepted by ${atLine(byRule)}` : 'accepted by the FORWARD policy'),
      scope: multiHomed
        ? `, between ${[...links].join(', ')}`
        : uplinkNamed
          ? ` (the rules name no link but ${probes.uplink}, so this matters if the host has more, or if neighbours use it as a gateway)`
          : ` (the rules name none of the host's own links, so ${probes.uplink} stands for its uplink here: this matters if the host has a second one, or if neighbours use it as a gateway)`,
      bridges: forwarding.map((n) => n.bridge ?? n.name).join(', '),
      bridge: forwarding[0]!.bridge ?? 'virbr0',
    },
    location: nftAt ?? policy?.location ?? (byRule ? ctx.location(byRule) : null),
  });
}
