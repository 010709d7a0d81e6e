// The kernel's recorded answers for the generated extension cases (one JSON object per line),
// and the extensions this kernel has no module for: there the kernel refuses every rule with
// the listed message, and virtables (which reads the rule as iptables would on a kernel that
// has the module) accepts.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_CORPUS } from './env.js';
import type { KernelAnswer, KernelCase } from './kernel-batch.js';

export const RECORD_FILE = join(REPO_CORPUS, 'iptables-extensions', 'kernel-answers.jsonl');

export function recordLine(c: KernelCase, a: KernelAnswer): string {
  return JSON.stringify({ family: c.family, table: c.table, chain: c.chain, rule: c.rule, ...a });
}

export function readRecorded(): Map<string, KernelAnswer> {
  const out = new Map<string, KernelAnswer>();
  if (!existsSync(RECORD_FILE)) return out;
  for (const line of readFileSync(RECORD_FILE, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const r = JSON.parse(line) as KernelCase & { ok: boolean; printed?: string; error?: string };
    out.set(
      `${r.family} ${r.table} ${r.chain} ${r.rule}`,
      r.ok ? { ok: true, printed: r.printed ?? '' } : { ok: false, error: r.error ?? '' },
    );
  }
  return out;
}

export interface Lack {
  readonly extension: string;
  /** The words that load it (`-j CLUSTERIP`, `-m ipvs`). */
  readonly loads: RegExp;
  /** What the kernel says. */
  readonly message: RegExp;
  readonly why: string;
}

/** Extensions iptables 1.8.9 ships whose kernel module this kernel (6.x) does not have. */
export const KERNEL_LACKS: readonly Lack[] = [
  ...['CLUSTERIP', 'ULOG', 'LED'].map((name) => ({
    extension: name,
    loads: new RegExp(`-j ${name}\\b`),
    message: new RegExp(`Extension ${name} revision 0 not supported, missing kernel module`),
    why: `no ${name} target module (removed from Linux or not built)`,
  })),
  {
    extension: 'ipvs',
    loads: /-m ipvs\b/,
    message: /Extension ipvs revision 0 not supported, missing kernel module/,
    why: 'no IPVS in this kernel',
  },
  {
    extension: 'SECMARK',
    loads: /-j SECMARK\b/,
    message: /line \d+ failed/,
    why: 'no SELinux in this kernel, so no security context resolves',
  },
  {
    extension: 'CT --helper',
    loads: /-j CT .*--helpe?r?\b/,
    message: /line \d+ failed/,
    why: 'no conntrack helper modules (ftp, sip, …) in this kernel',
  },
];

export function lacking(c: KernelCase, k: KernelAnswer): Lack | undefined {
  if (k.ok) return undefined;
  return KERNEL_LACKS.find((l) => l.loads.test(c.rule) && l.message.test(k.error));
}
