// Whole-process measurements for the #16 targets: each command run under /usr/bin/time (its
// CPU seconds and peak RSS as the kernel accounts them), A and B in turn so machine load hits
// both alike, and the ratio taken pair by pair (its median is the figure quoted).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Run {
  /** Seconds, wall clock, of the whole process. */
  readonly wall: number;
  /** Seconds of CPU (user + system). */
  readonly cpu: number;
  /** Peak resident set, MiB (the largest process of the command). */
  readonly peakMiB: number;
  readonly status: number;
  readonly stderr: string;
}

export const HAVE_TIME = existsSync('/usr/bin/time');
const scratch = mkdtempSync(join(tmpdir(), 'virtables-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

/** Runs a command (argv, no shell) to its end, its output thrown away. */
export function run(argv: readonly string[], okCodes: readonly number[] = [0]): Run {
  const timeFile = join(scratch, 'time');
  const wrapped = HAVE_TIME ? ['/usr/bin/time', '-o', timeFile, '-f', '%U %S %M', ...argv] : [...argv];
  const start = performance.now();
  const r = spawnSync(wrapped[0]!, wrapped.slice(1), {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const wall = (performance.now() - start) / 1000;
  const status = r.status ?? -1;
  if (!okCodes.includes(status)) throw new Error(`${argv.join(' ')} failed (${status}): ${r.stderr.slice(0, 2000)}`);
  const [user, sys, kib] = HAVE_TIME
    ? readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number)
    : [NaN, NaN, NaN];
  return { wall, cpu: user! + sys!, peakMiB: kib! / 1024, status, stderr: r.stderr };
}

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Runs of A and of B, taken in turn. */
export const PAIRS = { iterations: 6, warmupIterations: 0, time: 0, warmupTime: 0 };
export class Pair {
  readonly a: Run[] = [];
  readonly b: Run[] = [];
  private warmed = false;
  /** One pair, A then B (B left out when null); the first call is a warm-up, not counted. */
  measure(a: () => Run, b: (() => Run) | null): void {
    const ra = a();
    const rb = b?.();
    if (!this.warmed) {
      this.warmed = true;
      return;
    }
    this.a.push(ra);
    if (rb) this.b.push(rb);
  }
  /** The pair-by-pair ratios A/B, of wall or of CPU time, smallest first. */
  ratios(of: 'wall' | 'cpu' = 'wall'): number[] {
    return this.a
      .slice(0, this.b.length)
      .map((r, i) => r[of] / this.b[i]![of])
      .sort((x, y) => x - y);
  }
  /** The median of the pair-by-pair ratios A/B, of wall and of CPU time. */
  ratio(of: 'wall' | 'cpu' = 'wall'): number {
    return median(this.ratios(of));
  }
  peakA(): number {
    return Math.max(...this.a.map((r) => r.peakMiB));
  }
}

const fmt = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

/** One line per #16 target, the same shape in every bench: figure, target, met or not. */
export function report(name: string, figure: string, met: boolean | null, detail = ''): void {
  const verdict = met === null ? 'not measured' : met ? 'met' : 'NOT met';
  console.log(`[target #16] ${name}: ${figure} — ${verdict}${detail ? ` (${detail})` : ''}`);
}

/**
 * How far apart the pairs' ratios are: the middle half of them (every one when there are fewer than five). A loaded
 * machine moves single runs by a tenth or more, so a median is quoted with the spread it comes from.
 */
function spread(sorted: readonly number[]): string {
  if (sorted.length === 0) return 'no pairs';
  const quarter = sorted.length >= 5 ? Math.floor(sorted.length / 4) : 0;
  const lo = sorted[quarter]!;
  const hi = sorted[sorted.length - 1 - quarter]!;
  return `${quarter > 0 ? 'middle half' : 'all'} ${fmt(lo)}–${fmt(hi)}×`;
}

export function reportRatio(name: string, pair: Pair, limit: number, aName: string, bName: string, extra = ''): void {
  const wall = pair.ratio('wall');
  const ms = (runs: Run[], of: 'wall' | 'cpu') => `${fmt(median(runs.map((r) => r[of] * 1000)), 0)} ms`;
  report(
    name,
    `${fmt(wall)}× (target ≤ ${limit}×)`,
    Number.isFinite(wall) ? wall <= limit : null,
    `${aName} ${ms(pair.a, 'wall')} wall / ${ms(pair.a, 'cpu')} cpu, ${bName} ${ms(pair.b, 'wall')} / ${ms(pair.b, 'cpu')}; ` +
      `cpu ratio ${fmt(pair.ratio('cpu'))}×; ${pair.a.length} pairs, ${spread(pair.ratios('wall'))}${extra}`,
  );
}
