// masquerade-too-broad: a MASQUERADE/SNAT that also rewrites traffic between guests of the
// same network (no `! -d SUBNET`): once bridged traffic passes iptables (br_netfilter), guests
// see the host's address instead of each other's. libvirt's own rule excludes its subnet.
// The same for a host nft table's `masquerade`/`snat` (br_netfilter passes bridged IPv4 to the
// ip and inet hooks too), named by table, chain and rule.

import { formatCidr, formatHost, type Cidr } from '../../model/cidr.js';
import type { Rule } from '../../model/dump.js';
import { isNftRule, type NftRule } from '../../model/nft.js';
import { nftRuleText } from '../../write/nft-rule.js';
import { ruleLocation, ruleWords } from '../accepted.js';
import type { Check } from '../context.js';
import { formatRule } from '../../write/save.js';
import { finding, type Finding } from '../types.js';
import { deleteCommand, shellQuote } from '../words.js';

export const masqueradeTooBroad: Check = {
  id: 'masquerade-too-broad',
  severity: 'warning',
  summary: "a MASQUERADE/SNAT also rewrites traffic between a network's own guests",
  docs: 'docs/checks/masquerade-too-broad.md',
  run(ctx) {
    const probes = ctx.probes();
    if (!probes) return [];
    const hits = new Map<Rule | NftRule, string[]>();
    const subnets = new Map<Rule | NftRule, Cidr>();
    for (const s of probes.subjects) {
      if (!ctx.hasRules(s.network)) continue;
      const size = 1n << BigInt(32 - s.subnet.prefix);
      if (size < 4n) continue;
      // Another guest of the same subnet: neither the host nor the first guest.
      let peer = s.subnet.network + 2n;
      while (peer === s.hostAddress.value || peer === s.guest.value) peer++;
      const { steps } = probes.hook({ hook: 'POSTROUTING', inIface: '', outIface: s.bridge, src: s.guest.value, dst: peer, dport: 22 });
      const nat = steps.find((st) => (st.table === 'nat' || st.table.includes(' ')) && st.action === 'nat' && st.rule);
      if (!nat?.rule || !['masquerade', 'snat'].includes(nat.rule.target.kind)) continue;
      const rule = nat.rule.rule ?? nat.rule.nft?.rule;
      if (!rule) continue;
      hits.set(rule, [...(hits.get(rule) ?? []), `${s.network.name} (${formatHost(4, s.guest.value)} → ${formatHost(4, peer)})`]);
      if (!subnets.has(rule)) subnets.set(rule, s.subnet);
    }
    const out: Finding[] = [];
    for (const [rule, pairs] of hits) {
      const network = pairs.length === 1 ? pairs[0]!.split(' ')[0]! : null;
      const subnet = subnets.get(rule)!;
      if (isNftRule(rule)) {
        out.push(
          finding(masqueradeTooBroad, {
            network,
            message: `${ruleWords(rule)} also masquerades traffic between guests of the same network: ${pairs.join(', ')}. Once br_netfilter passes bridged traffic to the IP hooks (nft's ip and inet tables see it as iptables does), guests see the host's address instead of each other's (libvirt's own rule in guest_nat has \`ip daddr != SUBNET\` for this)`,
            fix: `exclude the subnet (or name the uplink with \`oifname\`): ${rule.handle === null ? `\`nft -a list chain ${chainOf(rule)}\` shows its handle N; then ` : ''}\`nft replace rule ${chainOf(rule)} handle ${rule.handle ?? 'N'} ip daddr != ${formatCidr(subnet)} ${nftRuleText(rule)}\``,
            location: ruleLocation(ctx, rule),
          }),
        );
        continue;
      }
      const e = ctx.explainedRule(rule);
      out.push(
        finding(masqueradeTooBroad, {
          network: pairs.length === 1 ? (e?.network ?? network) : null,
          message: `${ruleWords(rule)} also masquerades traffic between guests of the same network: ${pairs.join(', ')}. Once br_netfilter passes bridged traffic to iptables, guests see the host's address instead of each other's (libvirt's own rule has \`! -d SUBNET\` for this)`,
          fix: `exclude the subnet: replace it with the same rule plus \`! -d ${formatCidr(subnet)}\` (or add \`-o UPLINK\`), e.g. \`${deleteCommand(rule)}\` then \`${excluding(rule, subnet)}\``,
          location: ctx.location(rule),
        }),
      );
    }
    return out;
  },
};

/** The command that adds the rule back with its own subnet excluded (`! -d SUBNET`), where it was. */
function excluding(rule: Rule, subnet: Cidr): string {
  const text = rule.destination === null
    ? formatRule({ ...rule, destination: { negated: true, cidr: subnet, written: formatCidr(subnet) } })
    : `-A ${rule.chain} -s ${formatCidr(subnet)} ! -d ${formatCidr(subnet)} -j ${rule.target?.name ?? 'MASQUERADE'}`;
  return `iptables -t ${rule.table} ${text}`;
}

function chainOf(rule: NftRule): string {
  return `${rule.family} ${rule.table} ${shellQuote(rule.chain)}`;
}
