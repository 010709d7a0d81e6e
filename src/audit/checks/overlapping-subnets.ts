// overlapping-subnets: two networks whose subnets overlap. libvirt refuses to start the
// second while the first runs ("network is already in use"), and if both come up on different
// hosts' copies of the XML, routes and NAT rules pick one of them at random.

import { cidrsOverlap, formatCidr } from '../../model/cidr.js';
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
    for (let a = 0; a < networks.length; a++) {
      for (let b = a + 1; b < networks.length; b++) {
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
    }
    return out;
  },
});
