// The three conflict checks share one shape: another firewall manager's rule or policy stops
// traffic a virtual network's mode promises. Each check adds what is peculiar to its manager.

import type { AuditContext, Check } from './context.js';
import { blockedTraffic } from './outcomes.js';
import type { Finding } from './types.js';
import { finding } from './types.js';
import { atLine, networkLabel, OWNER_NAMES } from './words.js';

export function blockedBy(check: Check, ctx: AuditContext, owner: 'docker' | 'ufw' | 'firewalld', fix: (bridge: string, probe: string) => string): Finding[] {
  const out: Finding[] = [];
  for (const b of blockedTraffic(ctx)) {
    if (b.owner !== owner) continue;
    const how = b.rule ? `${atLine(b.rule)} ${b.verdict === 'rejected' ? 'rejects' : 'drops'} them` : `${OWNER_NAMES[owner]} set the ${b.step.table} ${b.step.chain} policy to DROP and nothing accepts them before it`;
    out.push(
      finding(check, {
        severity: 'error',
        network: b.subject.network.name,
        message: `${networkLabel(b.subject.network)}: ${OWNER_NAMES[owner]} stops ${b.what}: ${how}${b.expected ? ` before libvirt's ${atLine(b.expected)} is reached` : ''}`,
        fix: fix(b.subject.bridge, b.probe),
        location: b.rule ? ctx.location(b.rule) : b.expected ? ctx.location(b.expected) : ctx.definitionLocation(b.subject.network),
        related: b.rule && b.expected ? [{ ...ctx.location(b.expected), message: "libvirt's rule, never reached" }] : [],
      }),
    );
  }
  return out;
}

/** Built-in chain policy line (`:FORWARD DROP`), when the dump has one. */
export function policyLine(ctx: AuditContext, table: string, chain: string) {
  for (const d of ctx.dumps) {
    const c = d.tables.find((t) => t.name === table)?.chains.find((x) => x.name === chain);
    if (c) return { chain: c, location: c.pos ? { file: d.file, line: c.pos.line, col: c.pos.col, text: `:${c.name} ${c.policy ?? '-'}` } : null };
  }
  return null;
}

/** libvirt networks that put guests straight on a host bridge (mode='bridge'), whose traffic the FORWARD chain sees once br_netfilter is loaded. */
export function bridgedNetworks(ctx: AuditContext) {
  return ctx.networks.filter((n) => ctx.isRunning(n) && ((n.definition?.kind === 'libvirt' && n.definition.forward.mode === 'bridge') || (n.definition?.kind === 'xen' && n.definition.mode === 'bridge')));
}

export { networkLabel };
