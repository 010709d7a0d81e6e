// masquerade-too-broad: a MASQUERADE/SNAT that also rewrites traffic between guests of the
// same network (no `! -d SUBNET`): once bridged traffic passes iptables (br_netfilter), guests
// see the host's address instead of each other's. libvirt's own rule excludes its subnet.

import { formatCidr, formatHost, type Cidr } from '../../model/cidr.js';
import type { Rule } from '../../model/dump.js';
import type { Check } from '../context.js';
import { formatRule } from '../../write/save.js';
import { finding, type Finding } from '../types.js';
import { atLine, deleteCommand } from '../words.js';

export const masqueradeTooBroad: Check = {
  id: 'masquerade-too-broad',
  severity: 'warning',
  summary: "a MASQUERADE/SNAT also rewrites traffic between a network's own guests",
  docs: 'docs/checks/masquerade-too-broad.md',
  run(ctx) {
    const probes = ctx.probes();
    if (!probes) return [];
    const hits = new Map<Rule, string[]>();
    const subnets = new Map<Rule, Cidr>();
    for (const s of probes.subjects) {
      if (!ctx.hasRules(s.network)) continue;
      const size = 1n << BigInt(32 - s.subnet.prefix);
      if (size < 4n) continue;
      // Another guest of the same subnet: neither the host nor the first guest.
      let peer = s.subnet.network + 2n;
      while (peer === s.hostAddress.value || peer === s.guest.value) peer++;
      const { steps } = probes.hook({ hook: 'POSTROUTING', inIface: '', outIface: s.bridge, src: s.guest.value, dst: peer, dport: 22 });
      const nat = steps.find((st) => st.table === 'nat' && st.action === 'nat' && st.rule);
      if (!nat?.rule || !['masquerade', 'snat'].includes(nat.rule.target.kind)) continue;
      const rule = nat.rule.rule;
      if (!rule) continue;
      hits.set(rule, [...(hits.get(rule) ?? []), `${s.network.name} (${formatHost(4, s.guest.value)} → ${formatHost(4, peer)})`]);
      if (!subnets.has(rule)) subnets.set(rule, s.subnet);
    }
    const out: Finding[] = [];
    for (const [rule, pairs] of hits) {
      const e = ctx.explainedRule(rule);
      out.push(
        finding(masqueradeTooBroad, {
          network: pairs.length === 1 ? (e?.network ?? pairs[0]!.split(' ')[0]!) : null,
          message: `${atLine(rule)} also masquerades traffic between guests of the same network: ${pairs.join(', ')}. Once br_netfilter passes bridged traffic to iptables, guests see the host's address instead of each other's (libvirt's own rule has \`! -d SUBNET\` for this)`,
          fix: `exclude the subnet: replace it with the same rule plus \`! -d ${formatCidr(subnets.get(rule)!)}\` (or add \`-o UPLINK\`), e.g. \`${deleteCommand(rule)}\` then \`${excluding(rule, subnets.get(rule)!)}\``,
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
