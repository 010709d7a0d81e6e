// virtables audit [DUMP…|-] [--net NET…] [--inactive NET…] [--flavor F] [--libvirt-version X.Y.Z]
//                 [--format text|json|sarif|html] [--fail-on error|warning|info] [--skip CHECK…]

import { match } from 'ts-pattern';
import { CHECKS } from '../audit/checks/index.js';
import type { Check } from '../audit/context.js';
import { auditJson } from '../audit/json.js';
import type { AuditReport } from '../audit/run.js';
import { auditText } from '../audit/text.js';
import { severityRank, type Severity } from '../audit/types.js';
import type { Flavor } from '../engine/program.js';
import { assembleHost, hostDumps, hostIsEmpty, type Host } from '../model/host.js';
import type { Dump } from '../model/dump.js';
import type { AnyNetwork } from '../model/network.js';
import { UsageError } from '../model/errors.js';
import { VERSION } from '../package.js';
import type { Args } from './spec.js';
import { describeInputs, readAuditInputs, readNetworkInputs } from './inputs.js';
import { listingNote } from '../input/listing.js';
import { noteStdin, type Io } from './io.js';
import { styleFor } from './style.js';

/** What to audit: dump paths (network files among them are taken as running), networks, options. */
export interface AuditRequest {
  readonly files: readonly string[];
  readonly net: readonly string[];
  readonly inactive: readonly string[];
  readonly flavor?: Flavor | undefined;
  readonly libvirtVersion?: string | undefined;
  readonly checks: readonly Check[];
}

/** An audit done: per host its dumps and report, and the networks it was judged against. */
export interface AuditOutcome {
  readonly hosts: ReadonlyArray<Host & { readonly dumps: readonly Dump[] }>;
  readonly reports: readonly AuditReport[];
  readonly running: readonly AnyNetwork[];
  readonly inactive: readonly AnyNetwork[];
  readonly checks: readonly Check[];
}

export async function run({ values, positionals }: Args<'audit'>, io: Io): Promise<number> {
  const version = values['libvirt-version'];
  if (version !== undefined && !/^\d+\.\d+(\.\d+)?$/.test(version))
    throw new UsageError(`audit: --libvirt-version must look like X.Y or X.Y.Z (got '${version}')`);
  for (const id of values.skip ?? [])
    if (!CHECKS.some((c) => c.id === id))
      throw new UsageError(`audit: --skip: no check '${id}' (checks: ${CHECKS.map((c) => c.id).join(', ')})`);
  const checks = CHECKS.filter((c) => !(values.skip ?? []).includes(c.id));
  // Positionals: dumps, and network definitions (a pre-commit hook passes both kinds of changed file).
  const files = positionals.length > 0 ? positionals : ['-'];
  if (positionals.length === 0) noteStdin(io, 'audit', 'an iptables-save dump');
  const outcome = await auditFiles(
    {
      files,
      net: values.net ?? [],
      inactive: values.inactive ?? [],
      flavor: values.flavor,
      libvirtVersion: version,
      checks,
    },
    io,
  );
  io.stdout(await renderAudit(outcome, values.format ?? 'text', io));
  return auditExit(outcome.reports, values['fail-on'] ?? 'error');
}

/** Reads the inputs and runs the checks on each host (what audit and live share). */
export async function auditFiles(request: AuditRequest, io: Io): Promise<AuditOutcome> {
  const { hosts: read, networkFiles: positionalNetworks } = readAuditInputs('audit', [...request.files], io);
  const netPaths = [...new Set([...request.net, ...positionalNetworks])];
  const given = readNetworkInputs('audit', netPaths, io);
  const inactive = readNetworkInputs('audit', request.inactive, io);
  const stopped = new Set(inactive.map((n) => n.name));
  const running = given.filter((n) => !stopped.has(n.name));
  const { runAudit } = await import('../audit/run.js');
  const hosts = (read.length > 0 ? read : [assembleHost('no dump', [], [], [])]).map((h) => ({
    ...h,
    dumps: hostDumps(h),
  }));
  for (const host of hosts) {
    if (hostIsEmpty(host) && host.inputs.length > 0 && !io.quiet)
      io.stderr(`virtables audit: note: ${describeInputs(host)}: no tables at all\n`);
    for (const d of host.dumps) {
      const note = listingNote(d);
      if (note && !io.quiet) io.stderr(`virtables audit: note: ${note}\n`);
    }
  }
  const options = {
    ...(request.flavor ? { flavor: request.flavor } : {}),
    ...(request.libvirtVersion ? { libvirtVersion: request.libvirtVersion } : {}),
  };
  const reports: AuditReport[] = [];
  for (const host of hosts)
    reports.push(await runAudit({ dumps: host.dumps, host, running, inactive, ...options }, request.checks));
  return { hosts, reports, running, inactive, checks: request.checks };
}

/** The SARIF log of an audit, its first dump standing for findings that have no place. */
export async function auditSarif(outcome: AuditOutcome) {
  const { toSarif } = await import('../audit/sarif.js');
  const first = outcome.reports.flatMap((r) => r.files)[0];
  return toSarif(
    outcome.reports.flatMap((r) => r.findings),
    outcome.checks,
    VERSION,
    first ? { file: first, line: 1 } : null,
  );
}

/** The audit in one of its formats, as stdout gets it. */
export async function renderAudit(
  outcome: AuditOutcome,
  format: 'text' | 'json' | 'sarif' | 'html',
  io: Io,
): Promise<string> {
  return match(format)
    .with('json', () => JSON.stringify(auditJson(outcome.reports), null, 2) + '\n')
    .with('sarif', async () => JSON.stringify(await auditSarif(outcome), null, 2) + '\n')
    .with('html', async () => {
      const { auditHtmlPage } = await import('./audit-html.js');
      return auditHtmlPage(outcome.hosts, outcome.reports, outcome.running, outcome.inactive, VERSION, io);
    })
    .with('text', () => auditText(outcome.reports, styleFor(io)))
    .exhaustive();
}

/** 1 when a finding is at least as severe as --fail-on, else 0. */
export function auditExit(reports: readonly AuditReport[], failOn: Severity): number {
  return reports.some((r) => r.findings.some((f) => severityRank(f.severity) >= severityRank(failOn))) ? 1 : 0;
}
