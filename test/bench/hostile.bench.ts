// Hostile input grows time linearly: each case at a size and at ten times it, in the same run,
// so the ratio of the two (≈10 when linear, ≈100 when quadratic) is read off the report.
// Before the fixes (2 cores): 30 blank lines before a network XML 65 s (exponential); a listing
// line with 100,000 inner blanks 52 s, 20,000 continuation lines 63 s; 80 DHCP ranges in `net`
// 15 s; a 3,000-character CJK comment in `explain --format table` 51 s.
//
//   ./node_modules/.bin/vitest bench --run test/bench/hostile.bench.ts

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bench, describe } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { parseListing } from '../../grammar/listing.js';
import { renderTable } from '../../src/write/table.js';
import { inputKind } from '../../src/network/xen.js';
import { firstContentLine } from '../../src/model/text.js';
import { compileDump } from '../../src/sim/compile.js';
import { buildTopology, emptySpec } from '../../src/sim/topology.js';
import { parseUplinkFlag } from '../../src/cli/topology-flags.js';
import { prepare, trace } from '../../src/sim/trace.js';
import { REPO_CORPUS } from '../helpers/env.js';
import { refused } from '../helpers/errors.js';

const XML = readFileSync(join(REPO_CORPUS, 'network-xml', 'status-default.xml'), 'utf8');
/** INPUT → C1 → … → Cn, the last dropping ICMP. */
function deepChains(n: number) {
  const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];
  for (let i = 1; i <= n; i++) lines.push(`:C${i} - [0:0]`);
  lines.push('-A INPUT -p icmp -j C1');
  for (let i = 1; i < n; i++) lines.push(`-A C${i} -j C${i + 1}`);
  lines.push(`-A C${n} -p icmp -j DROP`, 'COMMIT', '');
  const sim = prepare(
    compileDump(parseSave(lines.join('\n'), { file: 'deep.save' })),
    buildTopology({ ...emptySpec(), uplink: parseUplinkFlag('eth0=10.0.2.15/24,gw=10.0.2.2') }),
  );
  return () => void trace(sim, { from: 'outside', to: 'host', proto: 'icmp' });
}

for (const n of [3_000, 30_000]) {
  const blanks = '\n'.repeat(n) + XML;
  const inner = `-A INPUT${' '.repeat(10 * n)}-j ACCEPT\n`;
  const continued = `iptables -A INPUT \\\n${'> -m comment --comment x \\\n'.repeat(n / 3)}> -j ACCEPT\n`;
  const unclosed = `*filter\n-A INPUT -m comment --comment "${'\\"'.repeat(n)}\nCOMMIT\n`;
  const ranges = Array.from(
    { length: n / 30 },
    (_, i) => `10.${i >> 8}.${i & 255}.2 - 10.${i >> 8}.${i & 255}.254`,
  ).join('\n');
  const cjk = `-A INPUT -m comment --comment "${'中文 '.repeat(n / 3)}" -j ACCEPT`;
  describe(`hostile input, size ${n.toLocaleString('en')}`, () => {
    bench('sniffing after blank lines', () => {
      inputKind(blanks);
      firstContentLine(blanks);
    });
    bench('listing line with inner blanks', () => void parseListing(inner, 'l.txt'));
    bench('listing continuation lines', () => void parseListing(continued, 'l.txt'), { iterations: 5 });
    bench(
      'dump with an unclosed quote (refused)',
      refused(() => parseSave(unclosed, { file: 'u.save' })),
    );
    bench('table of many DHCP ranges', () => void renderTable({ widths: [10, 68] }, [['DHCP', ranges]]));
    bench(
      'table of a wide CJK rule',
      () => void renderTable({ widths: [6, 8, 50, 14, 36] }, [['5', 'filter', cjk, '', cjk]]),
    );
  });
}

describe('chain depth', () => {
  bench('trace through 1,000 nested chains', deepChains(1_000));
  bench('trace through 10,000 nested chains', deepChains(10_000), { iterations: 5 });
});
