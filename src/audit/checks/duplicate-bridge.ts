// duplicate-bridge: two network definitions name the same bridge. libvirt refuses the second
// ("bridge name 'virbr0' already in use"); on a host that has both (copied XML), only one can
// run, and the dump's rules for the bridge are read as the other's.

import { defineCheck } from '../context.js';
import { report, type Finding } from '../types.js';
import { networkLabel } from '../words.js';

export const duplicateBridge = defineCheck({
  id: 'duplicate-bridge',
  severity: 'error',
  summary: 'two network definitions use the same bridge',
  docs: 'docs/checks/duplicate-bridge.md',
  messages: {
    uses: '{{network}} uses bridge {{bridge}}, like {{first}}{{firstAt}}: libvirt refuses to define or start the second ("bridge name \'{{bridge}}\' already in use"), and rules on {{bridge}} cannot be told apart',
    rename:
      "rename one bridge: `<bridge name='virbrN'/>` with an unused N in {{file}} (or remove the <bridge> name and let libvirt pick one at define time)",
  },
  run(ctx): Finding[] {
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
        report(duplicateBridge, {
          network: n.name,
          message: 'uses',
          fix: 'rename',
          data: {
            network: networkLabel(n),
            bridge: n.bridge,
            first: first.name,
            firstAt: other ? ` (${other.file}:${other.line})` : '',
            file: n.definition?.origin.file ?? n.name,
          },
          location: ctx.definitionLocation(n),
          related: other ? [{ ...other, message: `${first.name} uses the same bridge` }] : [],
        }),
      );
    }
    return out;
  },
});
