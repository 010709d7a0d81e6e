// Laying the DOT out with Graphviz's own `dot -Tsvg` (Debian's graphviz package) when it is
// installed; null when it is not, so the caller can fall back to the bundled layout. Besides
// src/live/run.ts this is the one place that starts a process, and it starts only `dot`, as a
// filter (DOT on stdin, SVG on stdout) or for its version (test/unit/live.test.ts holds it to that).

import { spawnSync } from 'node:child_process';

export interface GraphvizSvg {
  readonly svg: string;
  /** `dot - graphviz version 2.43.0 (0)` as `dot -V` says it. */
  readonly version: string;
}

export class GraphvizError extends Error {}

/** Runs `dot` from PATH; null when it is not installed. Never touches the network. */
export function graphvizSvg(dot: string): GraphvizSvg | null {
  const r = spawnSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new GraphvizError(`dot: ${r.error.message}`);
  }
  if (r.status !== 0)
    throw new GraphvizError(`dot -Tsvg failed (exit ${r.status}): ${r.stderr.trim().split('\n')[0] ?? ''}`);
  const v = spawnSync('dot', ['-V'], { encoding: 'utf8', timeout: 10_000 });
  const version = (v.stderr || v.stdout || '').trim().split('\n')[0] ?? 'dot';
  return { svg: r.stdout, version };
}
