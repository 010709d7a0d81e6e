// overlapping-subnets: two networks whose subnets overlap. libvirt refuses to start the
// second while the first runs ("network is already in use"), and if both come up on different
// hosts' copies of the XML, routes and NAT rules pick one of them at random.

import { cidrsOverlap, formatCidr, maskOf, type Cidr } from '../../model/cidr.js';
import type { NetworkInfo } from '../../explain/attribute.js';
import { defineCheck } from '../context.js';
import { report, type Finding } from '../types.js';
import { networkLabel, shellQuote } from '../words.js';

export const overlappingSubnets = defineCheck({
  id: 'overlapping-subnets',
  severity: 'error',
  summary: "two networks' subnets overlap",
  docs: 'docs/checks/overlapping-subnets.md',
  messages: {
    running:
      "{{network}} overlaps {{other}} ({{subnet}} and {{otherSubnet}}): guests of one are routed to the other's bridge and NAT rules match both",
    stopped:
      "{{network}} overlaps {{other}} ({{subnet}} and {{otherSubnet}}) — one of them is stopped, and libvirt will refuse to start it while the other runs: guests of one are routed to the other's bridge and NAT rules match both",
    fix: 'give one of them a free range: change `<ip address=… prefix=…>` in {{file}} (`virsh net-edit {{name}}`) and restart it',
  },
  run(ctx): Finding[] {
    const out: Finding[] = [];
    // Given definitions, or (without any) what the dump shows.
    const networks = ctx.networks.filter(
      (n) => (ctx.given ? n.origin === 'given' : n.owner === 'libvirt') && n.subnets.length > 0,
    );
    const ipOrigin = (n: NetworkInfo, i: number) => {
      const def = n.definition;
      const ip = def?.kind === 'libvirt' ? def.ips[i] : undefined;
      return ip
        ? { file: ip.origin.file, line: ip.origin.pos.line, col: ip.origin.pos.col }
        : ctx.definitionLocation(n);
    };
    for (const [a, b] of overlappingPairs(networks)) {
      const na = networks[a]!;
      const nb = networks[b]!;
      for (const [i, sa] of na.subnets.entries()) {
        const j = nb.subnets.findIndex((sb) => cidrsOverlap(sa, sb));
        if (j < 0) continue;
        const both = !ctx.isInactive(na) && !ctx.isInactive(nb);
        const where = ipOrigin(nb, j);
        const other = ipOrigin(na, i);
        out.push(
          report(overlappingSubnets, {
            severity: both ? 'error' : 'warning',
            network: nb.name,
            message: both ? 'running' : 'stopped',
            fix: 'fix',
            data: {
              network: networkLabel(nb),
              other: networkLabel(na),
              subnet: formatCidr(nb.subnets[j]!),
              otherSubnet: formatCidr(sa),
              file: nb.definition ? nb.definition.origin.file : nb.name,
              name: shellQuote(nb.name),
            },
            location: where ?? other,
            related: other ? [{ ...other, message: `${na.name}'s subnet` }] : [],
          }),
        );
        break;
      }
    }
    return out;
  },
});

/**
 * The pairs (a < b, in that order) of networks with some subnets that overlap: each subnet looks up the subnets that
 * contain it, prefix by prefix (every pair compared was half a million for 1,000 networks). A mask with holes is
 * compared with every network.
 */
function overlappingPairs(networks: readonly NetworkInfo[]): Array<[number, number]> {
  const byPrefix = new Map<string, Map<bigint, number[]>>();
  const prefixes = new Map<number, Set<number>>();
  const holes = new Set<number>();
  networks.forEach((n, at) => {
    for (const s of n.subnets) {
      if (s.mask !== undefined) {
        holes.add(at);
        continue;
      }
      const key = `${s.family}/${s.prefix}`;
      const map = byPrefix.get(key) ?? new Map<bigint, number[]>();
      byPrefix.set(key, map);
      map.set(s.network, [...(map.get(s.network) ?? []), at]);
      prefixes.set(s.family, (prefixes.get(s.family) ?? new Set()).add(s.prefix));
    }
  });
  const count = networks.length;
  const pairs = new Set<number>();
  const add = (x: number, y: number): void => {
    if (x !== y) pairs.add(Math.min(x, y) * count + Math.max(x, y));
  };
  networks.forEach((n, at) => {
    for (const s of n.subnets) {
      if (s.mask !== undefined) continue;
      // The subnets containing s (its own prefix and shorter ones): s lies inside each.
      for (const prefix of prefixes.get(s.family) ?? []) {
        if (prefix > s.prefix) continue;
        const hits = byPrefix.get(`${s.family}/${prefix}`)?.get(s.network & maskOf(s.family, prefix));
        for (const other of hits ?? []) add(at, other);
      }
    }
  });
  for (const at of holes) {
    const mine: readonly Cidr[] = networks[at]!.subnets;
    networks.forEach((n, other) => {
      if (mine.some((s) => n.subnets.some((t) => cidrsOverlap(s, t)))) add(at, other);
    });
  }
  return [...pairs].sort((x, y) => x - y).map((p) => [Math.floor(p / count), p % count]);
}
