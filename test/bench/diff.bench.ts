// `npm run bench` — #16 target for diff, whole processes, ratio in the same run: diff of two
// ~5,000-rule real dumps (the TUM chair's firewall, 2015-05-13 and 2015-09-03, in
// ../shared/corpus/real-world/) against parsing both (two `virtables parse` runs): ≤ 1.5×.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, bench, describe } from 'vitest';
import { corpusSkipReason, REPO, SHARED_CORPUS } from '../helpers/env.js';
import { Pair, PAIRS, report, reportRatio, run, type Run } from './process.js';

const tum = (stamp: string) =>
  join(SHARED_CORPUS, 'real-world', `configs_chair_for_Network_Architectures_and_Services__iptables-save-${stamp}`);
const originals = [tum('2015-05-13_10-53-20'), tum('2015-09-03_15-56-50')];
const virtables = join(REPO, 'bin', 'virtables');
const skip = corpusSkipReason() ?? (originals.every((f) => existsSync(f)) ? null : `missing ${originals.join(' or ')}`);
// Their MACs are censored (XX:XX:…), which iptables and virtables refuse: read with a placeholder MAC.
const scratch = mkdtempSync(join(tmpdir(), 'virtables-diff-bench-'));
const [before, after] = originals.map((f, i) => {
  const copy = join(scratch, `${i === 0 ? 'before' : 'after'}.save`);
  if (skip === null) writeFileSync(copy, readFileSync(f, 'utf8').replaceAll('XX:XX:XX:XX:XX:XX', '02:00:00:00:00:01'));
  return copy;
}) as [string, string];
const pair = new Pair();

/** Both parses as one run: their wall and CPU times added, the larger peak. */
function parseBoth(): Run {
  const a = run(['node', virtables, 'parse', before, '--format', 'save']);
  const b = run(['node', virtables, 'parse', after, '--format', 'save']);
  return { wall: a.wall + b.wall, cpu: a.cpu + b.cpu, peakMiB: Math.max(a.peakMiB, b.peakMiB), status: 0, stderr: '' };
}

describe('diff of two real ~5k-rule dumps', () => {
  if (skip === null)
    bench(
      'virtables diff, then parse of both (reference)',
      () => {
        pair.measure(() => run(['node', virtables, 'diff', before, after]), parseBoth);
      },
      PAIRS,
    );
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  if (skip !== null) report('diff of two TUM dumps vs parsing both', 'n/a', null, skip);
  else reportRatio('diff of two TUM dumps vs parsing both', pair, 1.5, 'diff', 'parse ×2');
});
