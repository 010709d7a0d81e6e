// masquerade-too-broad: a MASQUERADE/SNAT that also rewrites traffic between guests of the
// same network (no `! -d SUBNET`): once bridged traffic passes iptables (br_netfilter), guests
// see the host's address instead of each other's. libvirt's own rule excludes its subnet.
// The same for a host nft table's `masquerade`/`snat` (br_netfilter passes bridged IPv4 to the
// ip and inet hooks too), named by table, chain and rule.

import { formatCidr, formatHost, type Cidr } from '../../model/cidr.js';
import { addressMatch, type Dump, type Rule } from '../../model/dump.js';
import { isNftRule, type NftRule } from '../../model/nft.js';
import { nftRuleText } from '../../write/nft-rule.js';
import { ruleLocation, ruleWords } from '../accepted.js';
import { defineCheck } from '../context.js';
import { formatRule } from '../../write/save.js';
import { report, type Finding } from '../types.js';
import { shellQuote } from '../words.js';

export const masqueradeTooBroad = defineCheck({
  id: 'masquerade-too-broad',
  severity: 'warning',
  summary: "a MASQUERADE/SNAT also rewrites traffic between a network's own guests",
  docs: 'docs/checks/masquerade-too-broad.md',
  messages: {
    nftBroad:
      "{{rule}} also masquerades traffic between guests of the same network: {{pairs}}. Once br_netfilter passes bridged traffic to the IP hooks (nft's ip and inet tables see it as iptables does), guests see the host's address instead of each other's (libvirt's own rule in guest_nat has `ip daddr != SUBNET` for this)",
    broad:
      "{{rule}} also masquerades traffic between guests of the same network: {{pairs}}. Once br_netfilter passes bridged traffic to iptables, guests see the host's address instead of each other's (libvirt's own rule has `! -d SUBNET` for this)",
    nftExclude:
      'exclude the subnet (or name the uplink with `oifname`): {{listFirst}}`nft replace rule {{chain}} handle {{handle}} {{ip}} daddr != {{subnet}} {{text}}`',
    exclude:
      'exclude the subnet: replace it, in its place, with the same rule plus `! -d {{subnet}}` (or add `-o UPLINK`), e.g. `{{replace}}`',
  },
  run(ctx): Finding[] {
    const hits = new Map<Rule | NftRule, string[]>();
    const subnets = new Map<Rule | NftRule, Cidr>();
    // Each family's simulated host: an IPv6 MASQUERADE (<nat ipv6='yes'/>) can be as broad as an IPv4 one.
    for (const probes of ctx.reachability())
      for (const s of probes.subjects) {
        if (!ctx.hasRules(s.network, s.family)) continue;
        const size = 1n << BigInt((s.family === 6 ? 128 : 32) - s.subnet.prefix);
        if (size < 4n) continue;
        // Another guest of the same subnet: neither the host nor the first guest.
        let peer = s.subnet.network + 2n;
        while (peer === s.hostAddress.value || peer === s.guest.value) peer++;
        const { steps } = probes.hook({
          hook: 'POSTROUTING',
          inIface: '',
          outIface: s.bridge,
          src: s.guest.value,
          dst: peer,
          dport: 22,
        });
        const nat = steps.find(
          (st) => (st.table === 'nat' || st.table.includes(' ')) && st.action === 'nat' && st.rule,
        );
        if (!nat?.rule || !['masquerade', 'snat'].includes(nat.rule.target.kind)) continue;
        const rule = nat.rule.rule ?? nat.rule.nft?.rule;
        if (!rule) continue;
        hits.set(rule, [
          ...(hits.get(rule) ?? []),
          `${s.network.name} (${formatHost(s.family, s.guest.value)} → ${formatHost(s.family, peer)})`,
        ]);
        if (!subnets.has(rule)) subnets.set(rule, s.subnet);
      }
    const out: Finding[] = [];
    for (const [rule, pairs] of hits) {
      const network = pairs.length === 1 ? pairs[0]!.split(' ')[0]! : null;
      const subnet = subnets.get(rule)!;
      if (isNftRule(rule)) {
        out.push(
          report(masqueradeTooBroad, {
            network,
            message: 'nftBroad',
            fix: 'nftExclude',
            data: {
              rule: ruleWords(rule),
              pairs: pairs.join(', '),
              listFirst: rule.handle === null ? `\`nft -a list chain ${chainOf(rule)}\` shows its handle N; then ` : '',
              chain: chainOf(rule),
              handle: rule.handle ?? 'N',
              subnet: formatCidr(subnet),
              ip: subnet.family === 6 ? 'ip6' : 'ip',
              text: nftRuleText(rule),
            },
            location: ruleLocation(ctx, rule),
          }),
        );
        continue;
      }
      const e = ctx.explainedRule(rule);
      out.push(
        report(masqueradeTooBroad, {
          network: pairs.length === 1 ? (e?.network ?? network) : null,
          message: 'broad',
          fix: 'exclude',
          data: {
            rule: ruleWords(rule),
            pairs: pairs.join(', '),
            subnet: formatCidr(subnet),
            replace: excluding(rule, subnet, positionOf(ctx.dumps, rule)),
          },
          location: ctx.location(rule),
        }),
      );
    }
    return out;
  },
});

/** The rule's number in its chain, as `iptables -R` counts (1 is the first). */
function positionOf(dumps: readonly Dump[], rule: Rule): number {
  for (const d of dumps) {
    const i =
      d.tables
        .find((t) => t.name === rule.table)
        ?.chains.find((c) => c.name === rule.chain)
        ?.rules.indexOf(rule) ?? -1;
    if (i >= 0) return i + 1;
  }
  return 1;
}

/** The command that replaces the rule, where it is, by itself with its own subnet excluded (`! -d SUBNET`). */
function excluding(rule: Rule, subnet: Cidr, position: number): string {
  const family = subnet.family === 6 ? 'ipv6' : 'ipv4';
  const text =
    rule.destination === null
      ? formatRule({ ...rule, destination: addressMatch(subnet, true, formatCidr(subnet)) }, family)
      : `-A ${rule.chain} -s ${formatCidr(subnet)} ! -d ${formatCidr(subnet)} -j ${rule.target?.name ?? 'MASQUERADE'}`;
  return `${family === 'ipv6' ? 'ip6tables' : 'iptables'} -t ${rule.table} ${text.replace(/^-A (\S+) /, (_m, chain: string) => `-R ${chain} ${position} `)}`;
}

function chainOf(rule: NftRule): string {
  return `${rule.family} ${rule.table} ${shellQuote(rule.chain)}`;
}
