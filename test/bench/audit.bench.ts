// `npm run bench`: virtables audit, whole process, against two references measured in the
// same run (median of each, interleaved so machine load hits both alike):
//  * a 1,000-network, 100,000-rule dump (test/bench/generate.ts), audited as it stands and with
//    its 1,000 network XMLs given, against `virtables parse --format save` of it. Target ≤ 2×.
//  * one network, the default dump (the real a-default-nat capture; the repo's own scenario
//    when the shared corpus is absent), against `node -e 0`: pre-commit must feel instant. Target ≤ 3×.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, bench, describe } from 'vitest';
import { REPO, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { generateDump } from './generate.js';

const dir = join(REPO, '.bench-tmp');
const networks = join(dir, 'audit-networks');
mkdirSync(networks, { recursive: true });
const big = join(dir, 'audit-100k.save');
const generated = generateDump(1000);
writeFileSync(big, generated.text);
// The generator's networks: virbrN with 10.X.Y.0/24, NAT, DHCP (so its CHECKSUM rule is expected).
for (let i = 0; i < generated.networks; i++) {
  const net = `10.${(i >> 8) & 255}.${i & 255}`;
  writeFileSync(join(networks, `net${String(i).padStart(4, '0')}.xml`), `<network>\n  <name>net${i}</name>\n  <forward mode='nat'/>\n  <bridge name='virbr${i}'/>\n  <ip address='${net}.1' prefix='24'>\n    <dhcp><range start='${net}.2' end='${net}.254'/></dhcp>\n  </ip>\n</network>\n`);
}
const real = join(SHARED_CORPUS, 'libvirt-real', 'a-default-nat');
const small = existsSync(real) ? { dump: join(real, 'after.txt'), net: join(real, 'network.xml') } : { dump: join(REPO_CORPUS, 'audit', 'natted.save'), net: join(REPO_CORPUS, 'seed-lab', 'natted.xml') };
const virtables = join(REPO, 'bin', 'virtables');

const times: Record<string, number[]> = {};

function timed(label: string, args: string[], okCodes = [0, 1]): void {
  const start = performance.now();
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, stdio: ['ignore', 'ignore', 'pipe'] });
  (times[label] ??= []).push(performance.now() - start);
  if (!okCodes.includes(r.status ?? -1)) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

const median = (xs: number[] | undefined) => (xs && xs.length > 0 ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN);
const once = { iterations: 5, warmupIterations: 1, time: 0 };

describe(`audit ${generated.rules} rules, ${generated.networks} networks (${(generated.text.length / 1e6).toFixed(1)} MB)`, () => {
  bench('virtables audit (networks inferred) + parse --format save (reference)', () => {
    timed('parse', ['node', virtables, 'parse', big, '--format', 'save']);
    timed('audit', ['node', virtables, 'audit', big, '--format', 'json']);
  }, once);
  bench('virtables audit --net (1,000 XMLs)', () => {
    timed('audit --net', ['node', virtables, 'audit', big, '--net', networks, '--format', 'json']);
  }, once);
});

describe('a single small audit (one network, default dump)', () => {
  bench('virtables audit + node -e 0 (reference)', () => {
    timed('node -e 0', ['node', '-e', '0']);
    timed('small audit', ['node', virtables, 'audit', small.dump, '--net', small.net]);
  }, { iterations: 15, warmupIterations: 2, time: 0 });
});

afterAll(() => {
  const parse = median(times.parse);
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  if (times.audit) console.log(`\n[bench] audit (inferred networks) ${ms(median(times.audit))}, parse ${ms(parse)}: ratio ${(median(times.audit) / parse).toFixed(2)} (target ≤ 2)`);
  if (times['audit --net']) console.log(`[bench] audit --net (1,000 XMLs) ${ms(median(times['audit --net']))}: ratio to parse ${(median(times['audit --net']) / parse).toFixed(2)} (target ≤ 2)`);
  if (times['small audit']) console.log(`[bench] small audit ${ms(median(times['small audit']))}, node -e 0 ${ms(median(times['node -e 0']))}: ratio ${(median(times['small audit']) / median(times['node -e 0'])).toFixed(2)} (target ≤ 3)`);
});
