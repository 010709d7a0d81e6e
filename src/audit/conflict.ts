// The three conflict checks share one shape: another firewall manager's rule or policy stops
// traffic a virtual network's mode promises. Each check adds what is peculiar to its manager.

import type { Dump } from '../model/dump.js';
import type { AuditContext, Check } from './context.js';
import { stoppedAt } from './accepted.js';
import { blockedTraffic, undecidedTraffic } from './outcomes.js';
import { fill, finding, type Finding, type Templates } from './types.js';
import { atLine, networkLabel, OWNER_NAMES } from './words.js';

/** The words the three checks share, as templates (each check's own are in its `messages`). */
const SHARED: Templates<'stops' | 'undecided' | 'checkOnHost'> = {
  stops: '{{network}}: {{manager}} stops {{what}}: {{how}}{{beforeLibvirt}}{{nftWhy}}',
  undecided: '{{network}}: whether {{manager}} lets {{what}} through is unknown because {{reason}}',
  checkOnHost:
    'check it on the host with a real packet, or give the state virtables cannot read (`--assume`, `--ipset`); if {{manager}} stops it: {{fix}}',
};

export function blockedBy(
  check: Check,
  ctx: AuditContext,
  owner: 'docker' | 'ufw' | 'firewalld',
  fix: (bridge: string, probe: string, family: 4 | 6) => string,
): Finding[] {
  const out: Finding[] = [];
  const nftBackend = ctx.flavor.flavor === 'libvirt-nft';
  for (const b of blockedTraffic(ctx)) {
    if (b.owner !== owner) continue;
    const verb = b.verdict === 'rejected' ? 'rejects' : 'drops';
    // An nft step (a table of its own, or the iptables-nft table as nft lists it) is named by table and chain.
    const stop = b.step.table.includes(' ') ? stoppedAt(ctx, b.step) : null;
    const how = b.rule
      ? `${atLine(b.rule)} ${verb} them`
      : stop
        ? `${stop.words} ${verb} them`
        : `${OWNER_NAMES[owner]} set the ${b.step.table} ${b.step.chain} policy to DROP and nothing accepts them before it`;
    const forwarded = b.probe === 'out' || b.probe === 'reply' || b.probe === 'in';
    const nftWhy = nftBackend
      ? forwarded
        ? ": libvirt's nftables table accepts them, but an accept ends only its own table's chain; every other base chain on the hook still runs, and its drop is final"
        : ": libvirt's nftables backend adds no rules for DHCP and DNS to the host, so the host's input chains alone decide"
      : '';
    out.push(
      finding(check, {
        severity: 'error',
        network: b.subject.network.name,
        message: fill(SHARED.stops, {
          network: networkLabel(b.subject.network),
          manager: OWNER_NAMES[owner],
          what: b.what,
          how,
          beforeLibvirt: b.expected ? ` before libvirt's ${atLine(b.expected)} is reached` : '',
          nftWhy,
        }),
        fix: fix(b.subject.bridge, b.probe, b.subject.family),
        location: b.rule
          ? ctx.location(b.rule)
          : (stop?.location ?? (b.expected ? ctx.location(b.expected) : ctx.definitionLocation(b.subject.network))),
        related:
          b.rule && b.expected ? [{ ...ctx.location(b.expected), message: "libvirt's rule, never reached" }] : [],
      }),
    );
  }
  // What the simulator cannot decide in the manager's own rules: unknown, and why.
  for (const u of undecidedTraffic(ctx)) {
    if (u.owner !== owner) continue;
    out.push(
      finding(check, {
        severity: 'info',
        network: u.subject.network.name,
        message: fill(SHARED.undecided, {
          network: networkLabel(u.subject.network),
          manager: OWNER_NAMES[owner],
          what: u.what,
          reason: u.reason.replace(/^unknown because /, ''),
        }),
        fix: fill(SHARED.checkOnHost, {
          manager: OWNER_NAMES[owner],
          fix: fix(u.subject.bridge, u.probe, u.subject.family),
        }),
        location: ctx.definitionLocation(u.subject.network),
      }),
    );
  }
  return out;
}

/** Built-in chain policy line (`:FORWARD DROP`), when the dump has one. */
export function policyLine(ctx: AuditContext, table: string, chain: string, only?: Dump) {
  for (const d of only ? [only] : ctx.dumps) {
    const c = d.tables.find((t) => t.name === table)?.chains.find((x) => x.name === chain);
    if (c)
      return {
        chain: c,
        location: c.pos
          ? { file: d.file, line: c.pos.line, col: c.pos.col, text: `:${c.name} ${c.policy ?? '-'}` }
          : null,
      };
  }
  return null;
}

/**
 * libvirt networks that put guests straight on a host bridge (mode='bridge'), whose traffic the FORWARD chain sees once
 * br_netfilter is loaded.
 */
export function bridgedNetworks(ctx: AuditContext) {
  return ctx.networks.filter(
    (n) =>
      ctx.isRunning(n) &&
      ((n.definition?.kind === 'libvirt' && n.definition.forward.mode === 'bridge') ||
        (n.definition?.kind === 'xen' && n.definition.mode === 'bridge')),
  );
}

export { networkLabel };
