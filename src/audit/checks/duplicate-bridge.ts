// duplicate-bridge: two network definitions name the same bridge. libvirt refuses the second
// ("bridge name 'virbr0' already in use"); on a host that has both (copied XML), only one can
// run, and the dump's rules for the bridge are read as the other's.

import type { Check } from '../context.js';
import { finding, type Finding } from '../types.js';
import { networkLabel } from '../words.js';

export const duplicateBridge: Check = {
  id: 'duplicate-bridge',
  severity: 'error',
  summary: 'two network definitions use the same bridge',
  docs: 'docs/checks/duplicate-bridge.md',
  run(ctx) {
    const out: Finding[] = [];
    const seen = new Map<string, (typeof ctx.networks)[number]>();
    for (const n of ctx.networks) {
      if (n.origin !== 'given' || !n.bridge) continue;
      const first = seen.get(n.bridge);
      if (!first) {
        seen.set(n.bridge, n);
        continue;
      }
      const other = ctx.definitionLocation(first);
      out.push(
        finding(duplicateBridge, {
          network: n.name,
          message: `${networkLabel(n)} uses bridge ${n.bridge}, like ${first.name}${other ? ` (${other.file}:${other.line})` : ''}: libvirt refuses to define or start the second ("bridge name '${n.bridge}' already in use"), and rules on ${n.bridge} cannot be told apart`,
          fix: `rename one bridge: \`<bridge name='virbrN'/>\` with an unused N in ${n.definition?.origin.file ?? n.name} (or remove the <bridge> name and let libvirt pick one at define time)`,
          location: ctx.definitionLocation(n),
          related: other ? [{ ...other, message: `${first.name} uses the same bridge` }] : [],
        }),
      );
    }
    return out;
  },
};
