// `npm run bench` — #16 targets for audit, whole processes, ratios in the same run:
//  * audit of a 1,000-network, 110,000-rule dump (test/bench/generate.ts) with its 1,000 network
//    XMLs, against `virtables parse --format save` of the same dump: ≤ 1.5×. Beside it, in the same
//    runs, where the audit's time goes: the audit with every check skipped, without then with the
//    networks (the model kept and every rule explained; then the XMLs read and their rules compiled
//    for the era the report names), each as a ratio to the same run's parse.
//  * a small audit (one network, the real a-default-nat capture; the repo's own scenario when the
//    shared corpus is absent) against `node -e 0`: pre-commit must feel instant: ≤ 2.0×.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, bench, describe } from 'vitest';
import { CHECKS } from '../../src/audit/checks/index.js';
import { REPO, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { generateDump } from './generate.js';
import { median, Pair, PAIRS, reportRatio, run, type Run } from './process.js';

const dir = join(REPO, '.bench-tmp');
const networks = join(dir, 'audit-networks');
mkdirSync(networks, { recursive: true });
const big = join(dir, 'audit-110k.save');
const generated = generateDump(1000, 115);
writeFileSync(big, generated.text);
// The generator's networks: virbrN with 10.X.Y.0/24, NAT, DHCP (so its CHECKSUM rule is expected).
for (let i = 0; i < generated.networks; i++) {
  const net = `10.${(i >> 8) & 255}.${i & 255}`;
  writeFileSync(
    join(networks, `net${String(i).padStart(4, '0')}.xml`),
    `<network>\n  <name>net${i}</name>\n  <forward mode='nat'/>\n  <bridge name='virbr${i}'/>\n  <ip address='${net}.1' prefix='24'>\n    <dhcp><range start='${net}.2' end='${net}.254'/></dhcp>\n  </ip>\n</network>\n`,
  );
}
const real = join(SHARED_CORPUS, 'libvirt-real', 'a-default-nat');
const small = existsSync(real)
  ? { dump: join(real, 'after.txt'), net: join(real, 'network.xml') }
  : { dump: join(REPO_CORPUS, 'audit', 'natted.save'), net: join(REPO_CORPUS, 'seed-lab', 'natted.xml') };
const virtables = join(REPO, 'bin', 'virtables');
const findings = [0, 1];

const large = new Pair();
const tiny = new Pair();
const noChecks = CHECKS.flatMap((c) => ['--skip', c.id]);
/** The audit with every check skipped, run with each pair of `large`: without, then with --net (A only). */
const stages = { model: new Pair(), networks: new Pair() };

describe(`audit ${generated.rules} rules, ${generated.networks} networks (${(generated.text.length / 1e6).toFixed(1)} MB)`, () => {
  bench(
    'virtables audit --net (1,000 XMLs), then parse --format save (reference)',
    () => {
      large.measure(
        () => run(['node', virtables, 'audit', big, '--net', networks, '--format', 'json'], findings),
        () => run(['node', virtables, 'parse', big, '--format', 'save']),
      );
      stages.model.measure(
        () => run(['node', virtables, 'audit', big, ...noChecks, '--format', 'json'], findings),
        null,
      );
      stages.networks.measure(
        () => run(['node', virtables, 'audit', big, '--net', networks, ...noChecks, '--format', 'json'], findings),
        null,
      );
    },
    PAIRS,
  );
});

describe('a single small audit (one network, default dump)', () => {
  bench(
    'virtables audit, then node -e 0 (reference)',
    () => {
      tiny.measure(
        () => run(['node', virtables, 'audit', small.dump, '--net', small.net], findings),
        () => run(['node', '-e', '0']),
      );
    },
    { ...PAIRS, iterations: 16 },
  );
});

/** A stage's median wall time and its median ratio to the parse of the same pair. */
function stage(runs: readonly Run[]): string {
  const ratios = runs.map((r, i) => r.wall / large.b[i]!.wall);
  return `${(median(runs.map((r) => r.wall)) * 1000).toFixed(0)} ms, ${median(ratios).toFixed(2)}×`;
}

afterAll(() => {
  reportRatio('audit of 1,000 networks vs parse of the same dump', large, 1.5, 'audit', 'parse');
  if (stages.model.a.length > 0 && large.b.length >= stages.model.a.length)
    console.log(
      `[bench] where the audit of 1,000 networks goes (wall, median; ratio to the same pair's parse): ` +
        `parse ${(median(large.b.map((r) => r.wall)) * 1000).toFixed(0)} ms; ` +
        `every check skipped, no networks (the model kept, every rule explained) ${stage(stages.model.a)}; ` +
        `with the 1,000 networks (their XML read, their rules compiled for the era) ${stage(stages.networks.a)}; ` +
        `every check ${stage(large.a)}`,
    );
  reportRatio('small audit (one network) vs node -e 0', tiny, 2.0, 'audit', 'node -e 0');
});
