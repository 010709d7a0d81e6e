// Running the checks over one host: build the context, load the simulator only when there is
// something to simulate, collect findings in a stable order, and describe the networks.

import { formatCidr, type IpFamily } from '../model/cidr.js';
import type { Dump } from '../model/dump.js';
import type { Purpose } from '../engine/why.js';
import type { Verdict } from '../explain/verdict.js';
import { CHECKS } from './checks/index.js';
import { buildContext, type AuditContext, type AuditInputs, type Mode, type Check } from './context.js';
import type { FlavorInfo } from './flavor.js';
import { severityRank, type Finding, type Location } from './types.js';

export interface NetworkSummary {
  readonly name: string;
  /** running / inactive: given with --net / --inactive; inferred: only seen in the dump. */
  readonly state: 'running' | 'inactive' | 'inferred';
  readonly owner: 'libvirt' | 'xen' | 'docker';
  readonly bridge: string | null;
  readonly subnets: string[];
  readonly mode: Mode | null;
  readonly verdict: Verdict;
  readonly summary: string;
  readonly purposes: Purpose[];
  readonly definition: Location | null;
}

export interface AuditReport {
  readonly files: string[];
  readonly flavor: FlavorInfo;
  /** The eras the expected rules were derived for (`libvirt 11.3.0`, …). */
  readonly eras: string[];
  readonly findings: Finding[];
  readonly networks: NetworkSummary[];
}

/** Loads the simulator into the context when the host has networks to simulate. */
async function withProbes(ctx: AuditContext): Promise<void> {
  if (!ctx.ipv4 && !ctx.ipv6 && !ctx.nft) return;
  const simulable = ctx.networks.some(
    (n) =>
      !ctx.isInactive(n) &&
      ((n.owner === 'libvirt' && n.bridge && n.subnets.length > 0) ||
        (n.owner === 'xen' && n.definition?.kind === 'xen' && n.definition.vifs.length > 0)),
  );
  if (!simulable) return;
  const { buildProbes } = await import('./probes.js');
  if (!ctx.nft) {
    ctx.probeBuilder = (dump, networks, family) => buildProbes(dump ?? emptyDump(family), networks, undefined, family);
    return;
  }
  // An nft host: its tables and the family's dump on one engine (src/sim/compile.ts compileHost).
  const { compileHost } = await import('../sim/compile.js');
  const nft = ctx.nft;
  ctx.probeBuilder = (dump, networks, family) => {
    const ruleset = compileHost({ iptables: dump, nft }, family);
    return buildProbes(ruleset.dump, networks, ruleset, family);
  };
}

/** A dump with no tables: the family's rules were not given (its probes then find no subject with rules). */
function emptyDump(family: IpFamily): Dump {
  return { file: '-', family: family === 6 ? 'ipv6' : 'ipv4', tables: [], comments: [] };
}

/** The audit's context with the simulator loaded: for commands that ask it one question (explain). */
export async function simulatedContext(inputs: AuditInputs): Promise<AuditContext> {
  const ctx = buildContext(inputs);
  await withProbes(ctx);
  return ctx;
}

export async function runAudit(inputs: AuditInputs, checks: readonly Check[] = CHECKS): Promise<AuditReport> {
  const ctx = buildContext(inputs);
  await withProbes(ctx);
  const findings = checks.flatMap((c) => c.run(ctx));
  const networkOrder = new Map(ctx.networks.map((n, i) => [n.name, i]));
  const checkOrder = new Map(checks.map((c, i) => [c.id, i]));
  findings.sort(
    (a, b) =>
      (a.network === null ? Infinity : (networkOrder.get(a.network) ?? Infinity - 1)) -
        (b.network === null ? Infinity : (networkOrder.get(b.network) ?? Infinity - 1)) ||
      severityRank(b.severity) - severityRank(a.severity) ||
      (checkOrder.get(a.id) ?? 0) - (checkOrder.get(b.id) ?? 0) ||
      Number(a.family === 'ipv6') - Number(b.family === 'ipv6') ||
      (a.location?.order ?? a.location?.line ?? 0) - (b.location?.order ?? b.location?.line ?? 0),
  );
  const networks: NetworkSummary[] = ctx.networks.map((n) => {
    const v = ctx.verdict(n);
    return {
      name: n.name,
      state: ctx.isRunning(n) ? 'running' : ctx.isInactive(n) ? 'inactive' : 'inferred',
      owner: n.owner,
      bridge: n.bridge,
      subnets: n.subnets.map(formatCidr),
      mode: ctx.modeOf(n),
      verdict: v.verdict,
      summary: v.summary,
      purposes: v.purposes,
      definition: ctx.definitionLocation(n),
    };
  });
  // Every input of the host, an empty one too (it is what the audit saw).
  const files =
    inputs.host && inputs.host.inputs.length > 0
      ? inputs.host.inputs.map((i) => i.file)
      : [...ctx.dumps.map((d) => d.file), ...(ctx.nft ? [ctx.nft.file] : [])];
  return { files, flavor: ctx.flavor, eras: ctx.expected()?.eras ?? [], findings, networks };
}
