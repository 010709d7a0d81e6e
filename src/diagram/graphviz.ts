// Laying the DOT out with Graphviz's own `dot -Tsvg` (Debian's graphviz package) when it is
// installed; null when it is not, so the caller can fall back to the bundled layout.

import { spawnSync } from 'node:child_process';

export interface GraphvizSvg {
  readonly svg: string;
  /** `dot - graphviz version 2.43.0 (0)` as `dot -V` says it. */
  readonly version: string;
}

export class GraphvizError extends Error {}

/** Runs `dot` (from PATH, or `command`); null when it is not installed. Never touches the network. */
export function graphvizSvg(dot: string, command = 'dot'): GraphvizSvg | null {
  const r = spawnSync(command, ['-Tsvg'], { input: dot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new GraphvizError(`${command}: ${r.error.message}`);
  }
  if (r.status !== 0) throw new GraphvizError(`${command} -Tsvg failed (exit ${r.status}): ${r.stderr.trim().split('\n')[0] ?? ''}`);
  const v = spawnSync(command, ['-V'], { encoding: 'utf8', timeout: 10_000 });
  const version = (v.stderr || v.stdout || '').trim().split('\n')[0] ?? command;
  return { svg: r.stdout, version };
}
