// The extension data covers what iptables 1.8.9 ships here: every libxt_*, libipt_* and
// libip6t_* module in the xtables directory is an extension of src/xt, and every option its
// `--help` lists is one of the extension's options (or aliases).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { expect, it } from 'vitest';
import type { Family } from '../../src/model/dump.js';
import { allExtensions } from '../../src/xt/registry.js';
import { describeKernel } from '../helpers/env.js';

const DIRS = [
  '/usr/lib/x86_64-linux-gnu/xtables',
  '/usr/lib/aarch64-linux-gnu/xtables',
  '/usr/lib/xtables',
  '/usr/libexec/xtables',
];
const LIBDIR = DIRS.find(existsSync) ?? DIRS[0]!;

/** Names the modules register that are not extensions of their own (the NAT module's file, the verdicts). */
const NOT_EXTENSIONS = new Set(['NAT', 'standard']);

/** Words a --help text says with two dashes that are not options of the extension. */
const NOT_OPTIONS: Readonly<Record<string, readonly string[]>> = {};

function shipped(): Array<{ name: string; family: Family | null }> {
  return readdirSync(LIBDIR)
    .map((f) => /^lib(xt|ipt|ip6t)_(.+)\.so$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null && !NOT_EXTENSIONS.has(m[2]!))
    .map((m) => ({ name: m[2]!, family: m[1] === 'ipt' ? 'ipv4' : m[1] === 'ip6t' ? 'ipv6' : null }));
}

function helpOptions(tool: string, kind: 'match' | 'target', name: string): string[] {
  const r = spawnSync(tool, [kind === 'match' ? '-m' : '-j', name, '--help'], { encoding: 'utf8' });
  const text = r.stdout ?? '';
  const header = text.search(new RegExp(`^${name.replace(/[^\w]/g, '.')}.*(match|target).*options`, 'im'));
  if (header < 0) return [];
  return [...new Set([...text.slice(header).matchAll(/--([a-z0-9][a-z0-9-]*)/g)].map((m) => m[1]!))];
}

describeKernel('the extension data covers iptables 1.8.9 as installed here', () => {
  it(`every extension module in ${LIBDIR} is in src/xt`, () => {
    expect(existsSync(LIBDIR), `no xtables directory among ${DIRS.join(', ')}`).toBe(true);
    const version = execFileSync('iptables-legacy', ['--version'], { encoding: 'utf8' });
    expect(version).toMatch(/v1\.8\.9/);
    const have = allExtensions();
    const missing = shipped().filter(
      ({ name, family }) =>
        !have.some((e) => e.name === name && (family === null || e.family === undefined || e.family === family)),
    );
    expect(missing.map((m) => `${m.family ?? 'both'} ${m.name}`)).toEqual([]);
  });

  it('every option --help lists is an option of the extension', () => {
    const unknown: string[] = [];
    let listed = 0;
    for (const ext of allExtensions()) {
      if (['ACCEPT', 'DROP', 'RETURN', 'QUEUE'].includes(ext.name)) continue;
      const families: Family[] = ext.family ? [ext.family] : ['ipv4', 'ipv6'];
      for (const family of families) {
        const tool = family === 'ipv6' ? 'ip6tables-legacy' : 'iptables-legacy';
        const names = new Set(ext.options.flatMap((o) => [o.name, ...(o.aliases ?? [])]));
        const skip = new Set(
          NOT_OPTIONS[`${tool.split('-')[0]} ${ext.kind === 'match' ? '-m' : '-j'} ${ext.name}`] ?? [],
        );
        const help = helpOptions(tool, ext.kind, ext.name);
        listed += help.length;
        for (const o of help) {
          if (!names.has(o) && !skip.has(`--${o}`))
            unknown.push(`${tool} ${ext.kind === 'match' ? '-m' : '-j'} ${ext.name}: --${o}`);
        }
      }
    }
    expect(unknown).toEqual([]);
    expect(listed, 'options found in the --help texts').toBeGreaterThan(500);
  });
});
