// audit --format json: the findings, the networks and the hosts as a program reads them
// (documented in docs/json.md; live adds its "collection").

import type { AuditReport } from './run.js';
import type { Finding, Severity } from './types.js';

/** How many findings there are of each severity. */
export function counts(findings: readonly Finding[]): Record<Severity, number> {
  return {
    error: findings.filter((f) => f.severity === 'error').length,
    warning: findings.filter((f) => f.severity === 'warning').length,
    info: findings.filter((f) => f.severity === 'info').length,
  };
}

export function auditJson(reports: readonly AuditReport[]) {
  const findings = reports.flatMap((r) => r.findings);
  return {
    findings: findings.map((f) => ({
      id: f.id,
      severity: f.severity,
      network: f.network,
      ...(f.family ? { family: f.family } : {}),
      message: f.message,
      fix: f.fix,
      location: f.location,
      related: f.related,
    })),
    networks: reports.flatMap((r) => r.networks.map((n) => ({ ...n, files: r.files }))),
    hosts: reports.map((r) => ({ files: r.files, flavor: r.flavor, eras: r.eras })),
    summary: counts(findings),
  };
}
