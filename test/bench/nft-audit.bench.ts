// `npm run bench`: parse + audit of an nft host against the same work on an iptables host, whole
// process, measured in the same run (median of each, interleaved so machine load hits both alike).
// The same 1,000 libvirt NAT networks, started once under each of libvirt's firewall backends
// (test/bench/generate.ts derives both rulesets with compile): `nft list ruleset` text of
// `libvirt_network` (libvirt-nft, 10.4+) against the iptables-save of libvirt's chains (5.1+).
// Each side is audited with its networks inferred and with the 1,000 XMLs given. Target ≤ 2×.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, bench, describe } from 'vitest';
import { REPO } from '../helpers/env.js';
import { generateLibvirtHost } from './generate.js';

const NETWORKS = 1000;
const dir = join(REPO, '.bench-tmp', 'nft-audit');
const nets = join(dir, 'networks');
mkdirSync(nets, { recursive: true });
const host = await generateLibvirtHost(NETWORKS);
const files = { nft: join(dir, 'host.nft'), iptables: join(dir, 'host.save') } as const;
writeFileSync(files.nft, host.nft);
writeFileSync(files.iptables, host.iptables);
host.xml.forEach((xml, i) => writeFileSync(join(nets, `net${String(i).padStart(4, '0')}.xml`), xml));
const virtables = join(REPO, 'bin', 'virtables');

type Side = keyof typeof files;
const times: Record<string, number[]> = {};

function run(label: string, args: string[]): void {
  const start = performance.now();
  const r = spawnSync('node', [virtables, ...args], {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  (times[label] ??= []).push(performance.now() - start);
  // audit exits 1 on findings; anything else (2 = input error, a crash) makes the figure meaningless.
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`virtables ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

function parseAndAudit(side: Side, withNets: boolean): void {
  const label = `${side}${withNets ? ' --net' : ''}`;
  const start = performance.now();
  run(`${label} parse`, ['parse', files[side]]);
  run(`${label} audit`, ['audit', files[side], '--format', 'json', ...(withNets ? ['--net', nets] : [])]);
  (times[label] ??= []).push(performance.now() - start);
}

const median = (xs: number[] | undefined) =>
  xs && xs.length > 0 ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN;
const once = { iterations: 5, warmupIterations: 1, time: 0 };
const mb = (s: string) => `${(s.length / 1e6).toFixed(1)} MB`;

describe(`parse + audit, ${NETWORKS} libvirt networks: nft ${mb(host.nft)} vs iptables-save ${mb(host.iptables)}`, () => {
  bench(
    'nft list ruleset and iptables-save (reference), networks inferred',
    () => {
      parseAndAudit('iptables', false);
      parseAndAudit('nft', false);
    },
    once,
  );
  bench(
    'nft list ruleset and iptables-save (reference), --net with the 1,000 XMLs',
    () => {
      parseAndAudit('iptables', true);
      parseAndAudit('nft', true);
    },
    once,
  );
});

afterAll(() => {
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  for (const net of ['', ' --net']) {
    const nft = median(times[`nft${net}`]);
    const ipt = median(times[`iptables${net}`]);
    if (Number.isNaN(nft) || Number.isNaN(ipt)) continue;
    const parts = (side: Side) =>
      `parse ${ms(median(times[`${side}${net} parse`]))} + audit ${ms(median(times[`${side}${net} audit`]))}`;
    console.log(
      `\n[bench] nft parse+audit${net || ' (inferred)'} ${ms(nft)} (${parts('nft')}), iptables ${ms(ipt)} (${parts('iptables')}): ratio ${(nft / ipt).toFixed(2)} (target ≤ 2)`,
    );
  }
});
