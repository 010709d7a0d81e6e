// `npm run bench` — #16 targets for reading dumps, whole processes, ratios in the same run:
//  * `virtables parse --format save` of a generated 110,000-rule dump (10.7 MB) against
//    `iptables-legacy-restore --test` of the same file (in unshare -n): ≤ 1.2×, peak ≤ 150 MiB.
//  * a 2 GB dump on standard input (a pipe: no size to ask): parsed in bounded memory, or refused
//    before it is read whole, naming its size and the limit; peak ≤ 300 MiB either way.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, bench, describe } from 'vitest';
import { kernelSkipReason, REPO } from '../helpers/env.js';
import { generateDump } from './generate.js';
import { HAVE_TIME, Pair, PAIRS, report, reportRatio, run } from './process.js';

const dir = join(REPO, '.bench-tmp');
mkdirSync(dir, { recursive: true });
const file = join(dir, 'parse-110k.save');
const generated = generateDump(1000, 115);
writeFileSync(file, generated.text);
const virtables = join(REPO, 'bin', 'virtables');
const kernelReason = kernelSkipReason();
const pair = new Pair();

describe(`parse ${generated.rules} rules (${(generated.text.length / 1e6).toFixed(1)} MB)`, () => {
  bench(
    'virtables parse --format save, then iptables-legacy-restore --test (reference)',
    () => {
      pair.measure(
        () => run(['node', virtables, 'parse', file, '--format', 'save']),
        kernelReason === null ? () => run(['unshare', '-n', 'iptables-legacy-restore', '--test', file]) : null,
      );
    },
    PAIRS,
  );
});

// 2 GiB of rules through a pipe; the time of the whole pipeline is bounded by the refusal (or the parse).
const GIB2 = 2 * 1024 * 1024 * 1024;
let stdin: { status: number; peakMiB: number; message: string; seconds: number } | null = null;
describe('a 2 GB dump on standard input', () => {
  bench(
    'virtables parse - < 2 GB pipe',
    () => {
      const script = `{ printf '*filter\\n:INPUT ACCEPT [0:0]\\n'; yes -- '-A INPUT -s 10.1.2.3/32 -p tcp -m tcp --dport 22 -j ACCEPT' | head -c ${GIB2}; printf 'COMMIT\\n'; } | /usr/bin/time -o ${dir}/stdin.time -f '%M' node ${virtables} parse - --format save > /dev/null`;
      const start = performance.now();
      const r = spawnSync('sh', ['-c', script], {
        encoding: 'utf8',
        stdio: ['ignore', 'ignore', 'pipe'],
        maxBuffer: 64 * 1024 * 1024,
      });
      const peak = Number(spawnSync('tail', ['-n1', `${dir}/stdin.time`], { encoding: 'utf8' }).stdout.trim()) / 1024;
      stdin = {
        status: r.status ?? -1,
        peakMiB: peak,
        message: r.stderr.trim().split('\n').slice(-2).join(' / '),
        seconds: (performance.now() - start) / 1000,
      };
    },
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});

afterAll(() => {
  const peak = pair.peakA();
  reportRatio(
    'parse --format save, 110k rules vs iptables-legacy-restore --test',
    pair,
    1.2,
    'parse',
    'iptables-legacy-restore',
    kernelReason ? `; reference not run: ${kernelReason}` : '',
  );
  report(
    'parse 110k rules, peak RSS',
    HAVE_TIME ? `${peak.toFixed(0)} MiB (target ≤ 150 MiB)` : 'n/a',
    HAVE_TIME ? peak <= 150 : null,
  );
  if (stdin) {
    const s = stdin as { status: number; peakMiB: number; message: string; seconds: number };
    // Refused: exit 2 with a message that names the limit; parsed: exit 0. Either way bounded.
    const handled = s.status === 0 || (s.status === 2 && /MiB/.test(s.message));
    report(
      'a 2 GB dump on standard input',
      `exit ${s.status}, peak ${s.peakMiB.toFixed(0)} MiB (target ≤ 300 MiB, parsed or refused naming size and limit)`,
      handled && s.peakMiB <= 300,
      `${s.seconds.toFixed(1)} s; stderr: ${s.message.slice(0, 300) || '(none)'}`,
    );
  }
});
