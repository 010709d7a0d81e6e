// host-firewall-blocks-network: a running network's DHCP, DNS or forwarding is dropped by the
// host's own firewall — a native nft table (`table inet filter`, policy drop) or an iptables(-nft)
// REJECT — though libvirt's rules let it through. Under libvirt's nftables backend this is the
// common case: libvirt adds no INPUT rules at all, and its accepts end only its own table's
// chain, while every base chain on the hook still runs (measured: nft-real/k, p-priority-order).
// Found by the simulator, which names the table, chain and rule or policy that decides.

import { nftRuleText } from '../../write/nft-rule.js';
import { nftChainLocation, nftRuleLocation } from '../nft-location.js';
import { blockedTraffic, type Blocked, type ProbeKind } from '../outcomes.js';
import { defineCheck, type AuditContext } from '../context.js';
import { report, type Finding, type Location } from '../types.js';
import { atLine, networkLabel, shellQuote } from '../words.js';

const FIX_BACKEND =
  'let libvirt use its iptables backend (`firewall_backend = "iptables"` in /etc/libvirt/network.conf, restart virtnetworkd)';

export const hostFirewallBlocksNetwork = defineCheck({
  id: 'host-firewall-blocks-network',
  severity: 'error',
  summary: "the host's own firewall drops a running network's DHCP, DNS or forwarding that libvirt's rules allow",
  docs: 'docs/checks/host-firewall-blocks-network.md',
  messages: {
    blocked: '{{network}}: {{decider}} {{action}} {{what}}{{why}}',
    nftAccept: `accept the network's traffic in that chain before it is {{verdict}}: {{rules}} (and in the file the firewall is loaded from, e.g. /etc/nftables.conf), or ${FIX_BACKEND}: libvirt then inserts its accepts into the host's own INPUT and FORWARD chains`,
    iptablesAccept:
      "accept it ahead of the host's {{stopper}}: {{commands}} (and keep it in the host's saved rules, e.g. /etc/sysconfig/iptables)",
    iptablesAcceptOrBackend: `accept it ahead of the host's {{stopper}}: {{commands}} (and keep it in the host's saved rules, e.g. /etc/sysconfig/iptables); or ${FIX_BACKEND}, which inserts these accepts itself ahead of the host's rules`,
  },
  run(ctx): Finding[] {
    const out: Finding[] = [];
    // One finding per network and kind of traffic: the first thing that stops it.
    const seen = new Set<string>();
    for (const b of blockedTraffic(ctx)) {
      // libvirt's rule for it is there but comes too late: shadowed-rule says so.
      if (b.owner !== 'host' || b.expected !== null || !runs(ctx, b)) continue;
      const key = `${b.subject.network.name} ${b.probe === 'reply' ? 'out' : b.probe} ${b.subject.family}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(
        report(hostFirewallBlocksNetwork, {
          network: b.subject.network.name,
          message: 'blocked',
          ...fixFor(ctx, b),
          location: locationOf(ctx, b),
        }),
      );
    }
    return out;
  },
});

/** Only networks that run: given with --net, or seen in the rules when none were given. */
function runs(ctx: AuditContext, b: Blocked): boolean {
  const n = b.subject.network;
  return !ctx.isInactive(n) && (ctx.isRunning(n) || !ctx.given);
}

function isNft(b: Blocked): boolean {
  return b.step.table.includes(' ');
}

/** "table inet filter, chain input, by its policy drop" / "line 12 `-A INPUT -j REJECT …`". */
function deciderWords(b: Blocked): string {
  if (isNft(b)) {
    const where = `table ${b.step.table}, chain ${b.step.chain}`;
    return b.compiled?.nft
      ? `${where}, rule \`${nftRuleText(b.compiled.nft.rule)}\`,`
      : `${where}, by its policy (${policyWord(b)}),`;
  }
  if (b.rule) return `the host's rule ${atLine(b.rule)} (${b.step.table} ${b.step.chain})`;
  return `the host's ${b.step.table} ${b.step.chain} policy (${policyWord(b)})`;
}

function policyWord(b: Blocked): string {
  return (b.step.detail ?? 'policy drop').replace(/^policy /, 'policy ').toLowerCase();
}

function whyLibvirtDoesNotHelp(ctx: AuditContext, b: Blocked): string {
  const nftBackend = ctx.flavor.flavor === 'libvirt-nft';
  if (!nftBackend) return b.expected ? `, before libvirt's ${atLine(b.expected)} is reached` : '';
  const input = b.probe === 'dns' || b.probe === 'dhcp';
  return input
    ? ": libvirt's nftables backend adds no INPUT rules (it relies on the host accepting DHCP and DNS from its bridges), so the host's input chain alone decides"
    : `: libvirt's nftables rules accept it in table ${b.subject.family === 6 ? 'ip6' : 'ip'} libvirt_network, but an accept ends only that table's chain; every base chain on the forward hook still runs, and any drop is final`;
}

/** The commands that let the traffic through where it is stopped, with the message's words. */
function fixFor(
  ctx: AuditContext,
  b: Blocked,
): { fix: 'nftAccept' | 'iptablesAccept' | 'iptablesAcceptOrBackend'; data: Record<string, string> } {
  const br = b.subject.bridge;
  const what = accepts(b.probe);
  const words = {
    network: networkLabel(b.subject.network),
    decider: deciderWords(b),
    action: b.verdict === 'rejected' ? 'rejects' : 'drops',
    what: b.what,
    why: whyLibvirtDoesNotHelp(ctx, b),
    verdict: b.verdict,
  };
  if (isNft(b)) {
    const [family, ...name] = b.step.table.split(' ');
    const table = `${family} ${name.join(' ')}`;
    const rules = what
      .nft(br)
      .map((r) => `\`nft insert rule ${table} ${shellQuote(b.step.chain)} ${r}\``)
      .join(' and ');
    return { fix: 'nftAccept', data: { ...words, rules } };
  }
  const tool = b.subject.family === 6 ? 'ip6tables' : 'iptables';
  const commands = what
    .iptables(br)
    .map((r) => `\`${tool} -I ${b.step.chain} ${r}\``)
    .join(' and ');
  const data = { ...words, stopper: b.rule ? 'rule' : 'policy', commands };
  return { fix: ctx.flavor.flavor === 'libvirt-nft' ? 'iptablesAcceptOrBackend' : 'iptablesAccept', data };
}

function accepts(p: ProbeKind): { nft: (br: string) => string[]; iptables: (br: string) => string[] } {
  switch (p) {
    case 'dhcp':
      return {
        nft: (br) => [`iifname "${br}" udp dport 67 accept`],
        iptables: (br) => [`-i ${br} -p udp --dport 67 -j ACCEPT`],
      };
    case 'dns':
      return {
        nft: (br) => [`iifname "${br}" meta l4proto { tcp, udp } th dport 53 accept`],
        iptables: (br) => [`-i ${br} -p udp --dport 53 -j ACCEPT`, `-i ${br} -p tcp --dport 53 -j ACCEPT`],
      };
    case 'in':
      return { nft: (br) => [`oifname "${br}" accept`], iptables: (br) => [`-o ${br} -j ACCEPT`] };
    case 'out':
    case 'reply':
      return {
        nft: (br) => [`iifname "${br}" accept`, `oifname "${br}" ct state established,related accept`],
        iptables: (br) => [`-i ${br} -j ACCEPT`, `-o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`],
      };
  }
}

function locationOf(ctx: AuditContext, b: Blocked): Location | null {
  if (b.rule) return ctx.location(b.rule);
  const nft = ctx.probes()?.sim.ruleset.nft;
  const ref = b.compiled?.nft;
  if (nft && ref) return nftRuleLocation(nft, ref.rule);
  // A policy: the chain's line in the listing.
  const [family, ...name] = b.step.table.split(' ');
  const chain = nft?.tables
    .find((t) => t.family === family && t.name === name.join(' '))
    ?.chains.find((c) => c.name === b.step.chain);
  if (nft && chain) return nftChainLocation(nft, chain);
  return ctx.definitionLocation(b.subject.network);
}
