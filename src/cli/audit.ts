// virtables audit [DUMP…|-] [--net NET…] [--inactive NET…] [--flavor F] [--libvirt-version X.Y.Z]
//                 [--format text|json|sarif|html] [--fail-on error|warning|info] [--skip CHECK…]

import { CHECKS } from '../audit/checks/index.js';
import type { AuditReport } from '../audit/run.js';
import { severityRank, SEVERITIES, type Finding, type Severity } from '../audit/types.js';
import type { Flavor } from '../engine/program.js';
import { assembleHost, hostDumps, hostIsEmpty } from '../model/host.js';
import { UsageError } from '../model/errors.js';
import { oneOf, parseCommandArgs } from './args.js';
import { describeInputs, readAuditInputs, readNetworkInputs } from './inputs.js';
import { listingNote } from '../input/listing.js';
import { noteStdin, type Io } from './io.js';
import { VERSION } from './main.js';
import { styleFor, type Style } from './style.js';

export const help = `Usage: virtables audit [DUMP…|-] [--net NET…] [--inactive NET…] [--flavor F]
                       [--libvirt-version X.Y.Z] [--format text|json|sarif|html]
                       [--fail-on error|warning|info] [--skip CHECK…]

Finds every leak and gap in a virtualisation host's firewall: rules a running network
should have and lacks, rules that are there but never decide, guests reachable from
outside or from other networks, DNS that leaks out of isolated networks, NAT that is
missing or too broad, leftovers of removed networks, clashes with Docker, ufw and
firewalld. Each finding names the rule's line, why it matters and how to fix it.
Order matters, so reachability is traced packet by packet through the rules.

  DUMP                iptables-save, ip6tables-save, nft list ruleset or nft -j list ruleset
                      output, recognised by content ('-' or nothing: standard input), or
                      a directory of them (as live --save-dir writes); dumps in one
                      directory are one host. Network definitions given here are taken
                      as running, like --net
  --net NET           a running network: libvirt XML, Xen set-up, or a directory of them
                      (repeatable). Without any, the dump is audited as it stands
  --inactive NET      a network that is defined but stopped: its rules must be absent
  --flavor F          libvirt (5.1+, LIBVIRT_* chains), libvirt-legacy (before 5.1) or
                      libvirt-nft (10.4+ nftables backend); detected from the dump if not given
  --libvirt-version V the libvirt release (default: the era that fits the dump best)
  --format text       grouped by network, coloured on a terminal (default)
  --format json       {findings:[{id,severity,network,message,fix,location:{file,line}}],
                       networks:[…], hosts:[…]}
  --format sarif      SARIF 2.1.0 for code scanning (GitHub, GitLab)
  --format html       one self-contained page: the findings, the diagram, every rule
                      explained (virtables audit … --format html > report.html)
  --fail-on LEVEL     exit 1 when a finding is at least this severe (default: error)
  --skip CHECK        leave a check out (repeatable); see docs/checks/
  -h, --help          this text

Checks: ${CHECKS.map((c) => c.id).join(', ')}.
Exit status: 0 nothing at --fail-on or above, 1 findings, 2 bad input or usage.
`;

interface Values {
  help?: boolean;
  format?: string;
  net?: string[];
  inactive?: string[];
  flavor?: string;
  'libvirt-version'?: string;
  'fail-on'?: string;
  skip?: string[];
}

const LIBVIRT_FLAVORS = ['libvirt', 'libvirt-legacy', 'libvirt-nft'] as const;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs<Values>('audit', argv, {
    format: { type: 'string', short: 'f' },
    net: { type: 'string', multiple: true },
    inactive: { type: 'string', multiple: true },
    flavor: { type: 'string' },
    'libvirt-version': { type: 'string' },
    'fail-on': { type: 'string' },
    skip: { type: 'string', multiple: true },
  });
  if (values.help) {
    io.stdout(help);
    return 0;
  }
  const format = oneOf('audit', '--format', values.format, ['text', 'json', 'sarif', 'html'] as const, 'text');
  const failOn = oneOf('audit', '--fail-on', values['fail-on'], SEVERITIES, 'error');
  const flavor: Flavor | undefined = values.flavor === undefined ? undefined : oneOf('audit', '--flavor', values.flavor, LIBVIRT_FLAVORS, 'libvirt');
  const version = values['libvirt-version'];
  if (version !== undefined && !/^\d+\.\d+(\.\d+)?$/.test(version)) throw new UsageError(`audit: --libvirt-version must look like X.Y or X.Y.Z (got '${version}')`);
  for (const id of values.skip ?? []) if (!CHECKS.some((c) => c.id === id)) throw new UsageError(`audit: --skip: no check '${id}' (checks: ${CHECKS.map((c) => c.id).join(', ')})`);
  const checks = CHECKS.filter((c) => !(values.skip ?? []).includes(c.id));

  // Positionals: dumps, and network definitions (a pre-commit hook passes both kinds of changed file).
  const files = positionals.length > 0 ? positionals : ['-'];
  if (positionals.length === 0) noteStdin(io, 'audit', 'an iptables-save dump');
  const { hosts: read, networkFiles: positionalNetworks } = readAuditInputs('audit', files, io);
  const netPaths = [...new Set([...(values.net ?? []), ...positionalNetworks])];
  const running = readNetworkInputs('audit', netPaths, io);
  const inactive = readNetworkInputs('audit', values.inactive ?? [], io);
  const stopped = new Set(inactive.map((n) => n.name));
  const { runAudit } = await import('../audit/run.js');
  const hosts = (read.length > 0 ? read : [assembleHost('no dump', [], [], [])]).map((h) => ({ ...h, dumps: hostDumps(h) }));
  for (const host of hosts) {
    if (hostIsEmpty(host) && host.inputs.length > 0 && !io.quiet) io.stderr(`virtables audit: note: ${describeInputs(host)}: no tables at all\n`);
    for (const d of host.dumps) {
      const note = listingNote(d);
      if (note && !io.quiet) io.stderr(`virtables audit: note: ${note}\n`);
    }
  }
  const reports: AuditReport[] = [];
  for (const host of hosts) {
    reports.push(await runAudit({ dumps: host.dumps, host, running: running.filter((n) => !stopped.has(n.name)), inactive, ...(flavor ? { flavor } : {}), ...(version ? { libvirtVersion: version } : {}) }, checks));
  }
  const findings = reports.flatMap((r) => r.findings);
  if (format === 'json') io.stdout(JSON.stringify(auditJson(reports), null, 2) + '\n');
  else if (format === 'sarif') {
    const { toSarif } = await import('../audit/sarif.js');
    const first = reports.flatMap((r) => r.files)[0];
    io.stdout(JSON.stringify(toSarif(findings, checks, VERSION, first ? { file: first, line: 1 } : null), null, 2) + '\n');
  } else if (format === 'html') {
    const { auditHtmlPage } = await import('./audit-html.js');
    io.stdout(await auditHtmlPage(hosts, reports, running.filter((n) => !stopped.has(n.name)), inactive, VERSION, io));
  } else io.stdout(auditText(reports, styleFor(io)));
  return findings.some((f) => severityRank(f.severity) >= severityRank(failOn)) ? 1 : 0;
}

function counts(findings: readonly Finding[]): Record<Severity, number> {
  return { error: findings.filter((f) => f.severity === 'error').length, warning: findings.filter((f) => f.severity === 'warning').length, info: findings.filter((f) => f.severity === 'info').length };
}

export function auditJson(reports: readonly AuditReport[]) {
  const findings = reports.flatMap((r) => r.findings);
  return {
    findings: findings.map((f) => ({ id: f.id, severity: f.severity, network: f.network, message: f.message, fix: f.fix, location: f.location, related: f.related })),
    networks: reports.flatMap((r) => r.networks.map((n) => ({ ...n, files: r.files }))),
    hosts: reports.map((r) => ({ files: r.files, flavor: r.flavor, eras: r.eras })),
    summary: counts(findings),
  };
}

function paint(s: Style, severity: Severity, text: string): string {
  return severity === 'error' ? s.red(text) : severity === 'warning' ? s.yellow(text) : s.cyan(text);
}

export function auditText(reports: readonly AuditReport[], s: Style): string {
  const out: string[] = [];
  for (const r of reports) {
    const era = r.eras.length > 0 ? r.eras.join(', ') : r.flavor.flavor ?? 'no libvirt rules';
    out.push(s.bold(`virtables audit ${r.files.join(', ') || '(network definitions only)'}`), s.dim(`  ${era} — ${r.flavor.reason}`), '');
    const groups = [...r.networks.map((n) => ({ key: n.name as string | null, n })), { key: null, n: null }];
    for (const { key, n } of groups) {
      const mine = r.findings.filter((f) => f.network === key);
      if (!n && mine.length === 0) continue;
      if (n && mine.length === 0 && n.state === 'inferred' && n.owner !== 'libvirt') continue;
      if (n) {
        const where = [n.bridge && n.bridge !== n.name ? n.bridge : null, ...n.subnets.filter((x) => x !== n.name)].filter((x) => x).join(', ');
        out.push(`${s.bold(n.name)}${where ? ` (${where})` : ''} — ${n.state}${n.mode ? `, ${n.mode === 'none' ? 'isolated (no <forward>)' : n.mode}` : ''}: ${n.summary}`);
      } else out.push(s.bold('host'));
      if (mine.length === 0) out.push(`  ${s.green('ok')}  no findings`);
      for (const f of mine) {
        const at = f.location ? `${f.location.file}:${f.location.line}` : '';
        out.push(`  ${paint(s, f.severity, f.severity.padEnd(7))} ${s.bold(f.id)}  ${s.dim(at)}`);
        if (f.location?.text) out.push(`          ${f.location.text.trim()}`);
        out.push(`          ${f.message}`);
        for (const rel of f.related.slice(0, 5)) {
          const text = rel.text && rel.text.trim() !== f.location?.text?.trim() ? `: ${rel.text.trim()}` : '';
          out.push(s.dim(`          ${rel.file === f.location?.file ? `line ${rel.line}` : `${rel.file}:${rel.line}`}: ${rel.message}${text}`));
        }
        if (f.related.length > 5) out.push(s.dim(`          … and ${f.related.length - 5} more`));
        out.push(`          ${s.green('fix:')} ${f.fix}`);
      }
      out.push('');
    }
  }
  const all = reports.flatMap((r) => r.findings);
  const c = counts(all);
  out.push(all.length === 0 ? s.green('no findings') : `${all.length} finding${all.length === 1 ? '' : 's'}: ${paint(s, 'error', `${c.error} error${c.error === 1 ? '' : 's'}`)}, ${paint(s, 'warning', `${c.warning} warning${c.warning === 1 ? '' : 's'}`)}, ${paint(s, 'info', `${c.info} info`)}`);
  return out.join('\n') + '\n';
}
