// Everything compile derives loads into the real kernel: each `--format save` output through
// iptables-legacy-restore / ip6tables-legacy-restore (and prints back identically), each
// `--format nft` ruleset through `nft -c -f`, all inside `unshare -n`.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { describeKernel, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { kernelRoundTrip, tablesOf } from '../helpers/kernel.js';

interface Job {
  readonly name: string;
  readonly argv: string[];
  readonly family: 'ipv4' | 'ipv6';
}

const FIREWALL = join(SHARED_CORPUS, 'libvirt', 'firewall');
const LEGACY = join(SHARED_CORPUS, 'libvirt', 'firewall-legacy');
const xmlsIn = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.xml'))
        .sort()
        .map((f) => join(dir, f))
    : [];

function saveJobs(): Job[] {
  const jobs: Job[] = [];
  for (const xml of [...xmlsIn(FIREWALL), ...xmlsIn(LEGACY)]) {
    for (const family of ['ipv4', 'ipv6'] as const) {
      jobs.push({ name: `${xml} libvirt ${family}`, argv: ['compile', xml, '--family', family], family });
      jobs.push({
        name: `${xml} libvirt-legacy ${family}`,
        argv: ['compile', xml, '--flavor', 'libvirt-legacy', '--family', family],
        family,
      });
      jobs.push({
        name: `${xml} libvirt-legacy 0.8.3 ${family}`,
        argv: ['compile', xml, '--flavor', 'libvirt-legacy', '--libvirt-version', '0.8.3', '--family', family],
        family,
      });
    }
  }
  const lab = join(REPO_CORPUS, 'seed-lab');
  for (const net of ['host-only', 'natted', 'not_even_host']) {
    jobs.push({
      name: `seed lab ${net} 0.6.3`,
      argv: [
        'compile',
        join(lab, `${net}.xml`),
        '--flavor',
        'libvirt-legacy',
        '--libvirt-version',
        '0.6.3',
        '--base',
        join(lab, 'clean-host.save'),
      ],
      family: 'ipv4',
    });
    jobs.push({
      name: `seed lab ${net} on the clean host, libvirt 11.3.0`,
      argv: ['compile', join(lab, `${net}.xml`), '--base', join(lab, 'clean-host.save')],
      family: 'ipv4',
    });
  }
  const xen = join(REPO_CORPUS, 'xen');
  for (const capture of existsSync(xen)
    ? readdirSync(xen, { withFileTypes: true }).filter((d) => d.isDirectory())
    : []) {
    for (const step of readdirSync(join(xen, capture.name)).filter((f) => f.endsWith('.xen'))) {
      const file = join(xen, capture.name, step);
      const mode = /^network\s+(\w+)/m.exec(spawnSync('cat', [file], { encoding: 'utf8' }).stdout)?.[1];
      for (const version of ['3.0.0', '4.0.0', '4.4', '4.23'])
        jobs.push({
          name: `${capture.name}/${step} xen ${version}`,
          argv: ['compile', file, '--flavor', `xen-${mode}`, '--xen-version', version],
          family: 'ipv4',
        });
    }
  }
  return jobs;
}

/** `nft -c -f` with the bridges the rules name created first (nft resolves `iif NAME` when it parses). */
function nftChecks(text: string): { ok: boolean; stderr: string } {
  const links = [...new Set([...text.matchAll(/\b(?:iif|oif) "([^"]+)"/g)].map((m) => m[1]!))];
  const script = [...links.map((l) => `ip link add ${l} type bridge`), 'nft -c -f -'].join(' && ');
  const r = spawnSync('unshare', ['-n', 'sh', '-c', script], { input: text, encoding: 'utf8' });
  return { ok: r.status === 0, stderr: (r.stderr ?? '').trim() };
}

describeKernel(
  'compiled output loads into the kernel',
  async () => {
    const jobs = saveJobs();
    const failures: string[] = [];
    for (const job of jobs) {
      const r = await runCli(job.argv);
      if (r.code !== 0) {
        failures.push(`${job.name}: compile failed: ${r.stderr}`);
        continue;
      }
      if (r.stdout === '') continue;
      const k = kernelRoundTrip(r.stdout, job.family);
      if (!k.ok) failures.push(`${job.name}: restore refused: ${k.stderr}`);
      else if (JSON.stringify([...tablesOf(k.stdout)].sort()) !== JSON.stringify([...tablesOf(r.stdout)].sort()))
        failures.push(`${job.name}: the kernel prints it back differently:\n${k.stdout}`);
    }
    it(`${jobs.length - failures.length}/${jobs.length} save outputs load with *tables-legacy-restore and print back unchanged`, () => {
      expect(jobs.length).toBeGreaterThan(0);
      expect(failures).toEqual([]);
    });

    const nftFailures: string[] = [];
    const xmls = xmlsIn(FIREWALL);
    for (const xml of xmls) {
      const r = await runCli(['compile', xml, '--flavor', 'libvirt-nft']);
      const c = r.code === 0 ? nftChecks(r.stdout) : { ok: false, stderr: r.stderr };
      if (!c.ok) nftFailures.push(`${xml}: ${c.stderr}`);
    }
    it(`${xmls.length - nftFailures.length}/${xmls.length} nft rulesets pass nft -c -f`, () => {
      expect(xmls.length).toBeGreaterThan(0);
      expect(nftFailures).toEqual([]);
    });
  },
  { corpus: true },
);
