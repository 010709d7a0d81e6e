// audit --format text: per host, each network with its findings (the rule line, the message,
// related places, the fix), then a count by severity.

import type { Style } from '../write/style.js';
import { counts } from './json.js';
import type { AuditReport } from './run.js';
import type { Severity } from './types.js';

function paint(s: Style, severity: Severity, text: string): string {
  return severity === 'error' ? s.red(text) : severity === 'warning' ? s.yellow(text) : s.cyan(text);
}

export function auditText(reports: readonly AuditReport[], s: Style): string {
  const out: string[] = [];
  for (const r of reports) {
    const era = r.eras.length > 0 ? r.eras.join(', ') : (r.flavor.flavor ?? 'no libvirt rules');
    out.push(
      s.bold(`virtables audit ${r.files.join(', ') || '(network definitions only)'}`),
      s.dim(`  ${era} — ${r.flavor.reason}`),
      '',
    );
    const groups = [...r.networks.map((n) => ({ key: n.name as string | null, n })), { key: null, n: null }];
    for (const { key, n } of groups) {
      const mine = r.findings.filter((f) => f.network === key);
      if (!n && mine.length === 0) continue;
      if (n && mine.length === 0 && n.state === 'inferred' && n.owner !== 'libvirt') continue;
      if (n) {
        const where = [n.bridge && n.bridge !== n.name ? n.bridge : null, ...n.subnets.filter((x) => x !== n.name)]
          .filter((x) => x)
          .join(', ');
        out.push(
          `${s.bold(n.name)}${where ? ` (${where})` : ''} — ${n.state}${n.mode ? `, ${n.mode === 'none' ? 'isolated (no <forward>)' : n.mode}` : ''}: ${n.summary}`,
        );
      } else out.push(s.bold('host'));
      if (mine.length === 0) out.push(`  ${s.green('ok')}  no findings`);
      for (const f of mine) {
        const at = f.location ? `${f.location.file}:${f.location.line}` : '';
        out.push(`  ${paint(s, f.severity, f.severity.padEnd(7))} ${s.bold(f.id)}  ${s.dim(at)}`);
        if (f.location?.text) out.push(`          ${f.location.text.trim()}`);
        out.push(`          ${f.message}`);
        for (const rel of f.related.slice(0, 5)) {
          const text = rel.text && rel.text.trim() !== f.location?.text?.trim() ? `: ${rel.text.trim()}` : '';
          out.push(
            s.dim(
              `          ${rel.file === f.location?.file ? `line ${rel.line}` : `${rel.file}:${rel.line}`}: ${rel.message}${text}`,
            ),
          );
        }
        if (f.related.length > 5) out.push(s.dim(`          … and ${f.related.length - 5} more`));
        out.push(`          ${s.green('fix:')} ${f.fix}`);
      }
      out.push('');
    }
  }
  const all = reports.flatMap((r) => r.findings);
  const c = counts(all);
  out.push(
    all.length === 0
      ? s.green('no findings')
      : `${all.length} finding${all.length === 1 ? '' : 's'}: ${paint(s, 'error', `${c.error} error${c.error === 1 ? '' : 's'}`)}, ${paint(s, 'warning', `${c.warning} warning${c.warning === 1 ? '' : 's'}`)}, ${paint(s, 'info', `${c.info} info`)}`,
  );
  return out.join('\n') + '\n';
}
