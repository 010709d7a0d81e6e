// `npm run bench`: virtables parse --format save on a generated 100,000-rule dump, whole
// process, against iptables-legacy-restore --test on the same file (inside unshare -n), in
// the same run. Reports the median ratio and both peak RSS figures. Target: ratio ≤ 1.0,
// peak RSS ≤ 400 MB.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, bench, describe } from 'vitest';
import { kernelSkipReason, REPO } from '../helpers/env.js';
import { generateDump } from './generate.js';

const dir = join(REPO, '.bench-tmp');
mkdirSync(dir, { recursive: true });
const file = join(dir, 'parse-100k.save');
const generated = generateDump(1000);
writeFileSync(file, generated.text);
const virtables = join(REPO, 'bin', 'virtables');
const haveTime = existsSync('/usr/bin/time');
const kernelReason = kernelSkipReason();

const times = { virtables: [] as number[], kernel: [] as number[] };
const rss = { virtables: 0, kernel: 0 };

function timed(which: keyof typeof times, command: string, args: string[], stdin?: string): void {
  const wrapped = haveTime ? ['/usr/bin/time', ['-f', '%M', command, ...args]] as const : [command, args] as const;
  const start = performance.now();
  const r = spawnSync(wrapped[0], wrapped[1], { input: stdin, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, stdio: ['pipe', 'ignore', 'pipe'] });
  times[which].push(performance.now() - start);
  if (r.status !== 0) throw new Error(`${command} failed: ${r.stderr}`);
  if (haveTime) rss[which] = Math.max(rss[which], Number(r.stderr.trim().split('\n').pop()));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

describe(`parse ${generated.rules} rules (${(generated.text.length / 1e6).toFixed(1)} MB)`, () => {
  bench('virtables parse --format save', () => timed('virtables', 'node', [virtables, 'parse', file, '--format', 'save']), { iterations: 5, warmupIterations: 1, time: 0 });
  if (kernelReason === null) {
    bench('iptables-legacy-restore --test (reference)', () => timed('kernel', 'unshare', ['-n', 'iptables-legacy-restore', '--test', file]), { iterations: 5, warmupIterations: 1, time: 0 });
  }
});

afterAll(() => {
  const v = median(times.virtables);
  const k = median(times.kernel);
  console.log(`\n[bench] parse: virtables ${v.toFixed(0)} ms, iptables-legacy-restore --test ${Number.isNaN(k) ? `not run (${kernelReason})` : `${k.toFixed(0)} ms`}; median ratio ${(v / k).toFixed(2)} (target ≤ 1.0)`);
  if (haveTime) console.log(`[bench] peak RSS: virtables ${(rss.virtables / 1024).toFixed(0)} MB (target ≤ 400), iptables-legacy-restore ${(rss.kernel / 1024).toFixed(0)} MB`);
});
