// Real iptables in a throw-away network namespace: the ground truth for round trips and
// for `compile` output. Nothing here touches the machine's own namespace.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Family } from '../../src/model/dump.js';

export interface KernelResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export type Backend = 'legacy' | 'nft';

function tools(family: Family, backend: Backend): { restore: string; save: string } {
  const base = family === 'ipv6' ? 'ip6tables' : 'iptables';
  return { restore: `${base}-${backend}-restore`, save: `${base}-${backend}-save` };
}

/** `*-restore < text; *-save` inside `unshare -n` (after `setup`, a shell command, when given). */
export function kernelRoundTrip(
  text: string,
  family: Family,
  backend: Backend = 'legacy',
  counters = false,
  setup?: string,
): KernelResult {
  const { restore, save } = tools(family, backend);
  const c = counters ? ' -c' : '';
  const before = setup ? `${setup} && ` : '';
  const r = spawnSync('unshare', ['-n', 'sh', '-c', `${before}${restore} -w${c} && ${save}${c}`], {
    input: text,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: (r.stderr ?? '').trim() };
}

/**
 * A dump reduced to what the round-trip comparison cares about: `#` lines dropped, chain
 * counters dropped, and tables keyed by name (legacy iptables-save lists tables in the
 * order the kernel registered them, not the order of the file).
 */
export function tablesOf(saveText: string, keepRuleCounters = false): Map<string, string> {
  const tables = new Map<string, string>();
  let name = '';
  let lines: string[] = [];
  for (const raw of saveText.split('\n')) {
    if (raw.startsWith('#') || raw === '') continue;
    if (raw.startsWith('*')) {
      name = raw.slice(1);
      lines = [];
      continue;
    }
    if (raw === 'COMMIT') {
      tables.set(name, lines.join('\n'));
      continue;
    }
    let line = raw.replace(/^(:\S+ \S+) \[\d+:\d+\]$/, '$1');
    if (!keepRuleCounters) line = line.replace(/^\[\d+:\d+\] /, '');
    lines.push(line);
  }
  return tables;
}

export interface NftRoundTrip {
  readonly ok: boolean;
  /** `nft list ruleset` after loading. */
  readonly text: string;
  /** `nft -j list ruleset` after loading. */
  readonly json: string;
  readonly stderr: string;
}

/**
 * `nft -f` (or `nft -j -f`) of a ruleset in a fresh network namespace, then `nft list ruleset`
 * and `nft -j list ruleset`. `iif`/`oif` name interfaces the kernel resolves when loading, so
 * those are created first (as bridges: this kernel has no dummy module).
 */
export function nftRoundTrip(
  input: string,
  options: { json?: boolean; interfaces?: readonly string[] } = {},
): NftRoundTrip {
  const marker = '@@virtables-json@@';
  // nft -j cannot read standard input: the ruleset goes through a file.
  const dir = mkdtempSync(join(tmpdir(), 'virtables-nft-'));
  const file = join(dir, options.json ? 'ruleset.json' : 'ruleset.nft');
  writeFileSync(file, input);
  const script = [
    'ip link set lo up',
    'for i in "$@"; do ip link show "$i" >/dev/null 2>&1 || ip link add "$i" type bridge || exit 3; done',
    `nft ${options.json ? '-j ' : ''}-f '${file}' || exit 2`,
    `nft list ruleset && echo '${marker}' && nft -j list ruleset`,
  ].join('\n');
  const r = spawnSync('unshare', ['-n', 'sh', '-c', script, 'sh', ...(options.interfaces ?? [])], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  rmSync(dir, { recursive: true, force: true });
  const out = r.stdout ?? '';
  const at = out.indexOf(`${marker}\n`);
  return {
    ok: r.status === 0,
    text: at < 0 ? out : out.slice(0, at),
    json: at < 0 ? '' : out.slice(at + marker.length + 1),
    stderr: (r.stderr ?? '').trim(),
  };
}
