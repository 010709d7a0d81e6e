// leftover-chains: libvirt's private LIBVIRT_* chains, empty, still hooked into the built-in
// chains. libvirt creates them once and never removes them, so after the last network stops
// they stay behind: harmless, not stale rules (libvirt reuses them at the next start).

import { LIBVIRT_CHAINS } from '../../explain/classify.js';
import { defineCheck } from '../context.js';
import { report, type Finding } from '../types.js';

export const leftoverChains = defineCheck({
  id: 'leftover-chains',
  severity: 'info',
  summary: "libvirt's empty LIBVIRT_* chains and their jumps, left after the last network stopped",
  docs: 'docs/checks/leftover-chains.md',
  messages: {
    empty:
      "libvirt's private chains are empty ({{chains}}){{jumps}}: libvirt creates them once and leaves them after its last network stops. Harmless; they are reused when a network starts again",
    nothing:
      'nothing to do; to remove them anyway, delete the jumps (`iptables -D FORWARD -j LIBVIRT_FWX`, …) then the chains (`iptables -X LIBVIRT_FWX`, …) while no libvirt network runs',
  },
  run(ctx): Finding[] {
    const chains = ctx.dumps.flatMap((d) =>
      d.tables.flatMap((t) =>
        t.chains.filter((c) => LIBVIRT_CHAINS.has(c.name)).map((c) => ({ dump: d, table: t.name, chain: c })),
      ),
    );
    if (chains.length === 0 || chains.some((c) => c.chain.rules.length > 0)) return [];
    // Running networks that should have filled them: missing-rule says so, loudly.
    const expected = ctx.expected();
    if (expected && expected.rules.some((r) => r.network !== null)) return [];
    const jumps = ctx.explained.filter((e) => e.purpose === 'chain-setup');
    const names = [...new Set(chains.map((c) => `${c.table} ${c.chain.name}`))];
    const [first, ...rest] = jumps;
    const chainLine = chains.find((c) => c.chain.pos)!;
    return [
      report(leftoverChains, {
        network: null,
        message: 'empty',
        fix: 'nothing',
        data: {
          chains: names.join(', '),
          jumps: jumps.length > 0 ? ` and ${jumps.length} jump(s) still lead into them` : '',
        },
        location: first
          ? ctx.location(first.rule)
          : chainLine
            ? {
                file: chainLine.dump.file,
                line: chainLine.chain.pos!.line,
                col: chainLine.chain.pos!.col,
                text: `:${chainLine.chain.name} - [0:0]`,
              }
            : null,
        related: rest.map((e) => ({ ...ctx.location(e.rule), message: 'another jump into an empty libvirt chain' })),
      }),
    ];
  },
});
