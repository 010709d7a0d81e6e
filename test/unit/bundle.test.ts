// bin/virtables runs dist/virtables.cjs (scripts/bundle.mjs: the CLI as one script, for start-up)
// and, under VIRTABLES_DEBUG, tsc's ES modules. Both are the same program: each command here is
// run both ways as a user would, and what it prints and its exit status must be the same.

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { describeGraphviz, REPO, REPO_CORPUS } from '../helpers/env.js';
import { generateDump } from '../bench/generate.js';

const BIN = join(REPO, 'bin', 'virtables');
const BUNDLE = join(REPO, 'dist', 'virtables.cjs');
const seed = (f: string) => join(REPO_CORPUS, 'seed-lab', f);
const audit = (f: string) => join(REPO_CORPUS, 'audit', f);

function run(args: readonly string[], modules: boolean, stdin = '') {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.VIRTABLES_DEBUG;
  if (modules) env.VIRTABLES_DEBUG = '1';
  const r = spawnSync(process.execPath, [BIN, ...args], { env, input: stdin, encoding: 'utf8', cwd: REPO });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const COMMANDS: readonly (readonly string[])[] = [
  ['--help'],
  ['audti'],
  ['demo'],
  ['parse', seed('lab-host.save'), '--format', 'json'],
  ['parse', join(REPO_CORPUS, 'nft', 'docker-like.nft'), '--format', 'save'],
  ['explain', seed('lab-host.save')],
  ['diff', join(REPO_CORPUS, 'diff', 'state.save'), join(REPO_CORPUS, 'diff', 'conntrack.save')],
  ['compile', seed('natted.xml'), '--format', 'nft'],
  ['audit', audit('natted.save'), '--net', seed('natted.xml')],
  [
    'audit',
    audit('natted+routed.save'),
    '--net',
    seed('natted.xml'),
    '--net',
    audit('routed.xml'),
    '--format',
    'sarif',
  ],
  ['net', seed('natntw.xml'), seed('xenbr0.xen')],
  ['trace', seed('lab-host.save'), '--from', '192.168.122.10', '--to', '8.8.8.8', '--proto', 'tcp', '--dport', '53'],
  ['diagram', seed('lab-host.save'), '--format', 'mermaid'],
  ['completion', 'zsh'],
];

describe('the bundle and the modules are one program', () => {
  it('the bundle is built, after the modules, and is ASCII (read as latin1)', () => {
    const built = statSync(BUNDLE, { throwIfNoEntry: false });
    expect(built, `${BUNDLE} is missing: run npm run build`).toBeDefined();
    expect(built!.mtimeMs).toBeGreaterThanOrEqual(statSync(join(REPO, 'dist', 'src', 'cli', 'main.js')).mtimeMs);
    expect(/[^\x00-\x7f]/.test(readFileSync(BUNDLE, 'latin1'))).toBe(false);
  });

  it('each way runs what it names: the bundle imports no module of dist/src, VIRTABLES_DEBUG does', () => {
    // Node's own ES module debug log names each module it loads; without this the comparisons below
    // could pass with the bundle run twice.
    const loads = (modules: boolean) => {
      const env: NodeJS.ProcessEnv = { ...process.env, NODE_DEBUG: 'esm' };
      delete env.VIRTABLES_DEBUG;
      if (modules) env.VIRTABLES_DEBUG = '1';
      const r = spawnSync(process.execPath, [BIN, '--version'], { env, encoding: 'utf8' });
      expect(r.status).toBe(0);
      return r.stderr.includes('dist/src/cli/main.js');
    };
    expect(loads(false)).toBe(false);
    expect(loads(true)).toBe(true);
  });

  it('a reader that stops early (`| head`) is no error, either way: exit 0 and nothing on stderr', async () => {
    // About 1 MB out, far past a pipe's buffer: the writes after the reader closes fail with EPIPE.
    const dump = generateDump(40).text;
    const stopped = (modules: boolean) =>
      new Promise<{ status: number | null; stderr: string; got: number }>((done, fail) => {
        const env: NodeJS.ProcessEnv = { ...process.env };
        delete env.VIRTABLES_DEBUG;
        if (modules) env.VIRTABLES_DEBUG = '1';
        const child = spawn(process.execPath, [BIN, 'parse', '-', '--format', 'save'], { env });
        let stderr = '';
        let got = 0;
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.stdout.once('data', (d: Buffer) => {
          got = d.length;
          child.stdout.destroy();
        });
        child.stdin.on('error', () => {});
        child.stdin.end(dump);
        child.on('error', fail);
        child.on('close', (status) => done({ status, stderr, got }));
      });
    for (const modules of [false, true]) {
      const r = await stopped(modules);
      expect(r.got).toBeGreaterThan(0);
      expect({ modules, status: r.status, stderr: r.stderr }).toEqual({ modules, status: 0, stderr: '' });
    }
  });

  it('V8 takes the code cache built for it', () => {
    const script = new Script(readFileSync(BUNDLE, 'latin1'), {
      filename: BUNDLE,
      cachedData: readFileSync(`${BUNDLE}.cache`),
    });
    expect(script.cachedDataRejected).toBe(false);
  });

  for (const args of COMMANDS) {
    it(`virtables ${args.map((a) => a.replace(`${REPO}/`, '')).join(' ')}`, () => {
      const bundled = run(args, false);
      const modules = run(args, true);
      expect(bundled.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(bundled).toEqual(modules);
    });
  }

  it('standard input and a positioned input error', () => {
    const junk = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport\nCOMMIT\n';
    const bundled = run(['parse', '-'], false, junk);
    expect(bundled.status).toBe(2);
    expect(bundled.stderr).toMatch(/^-:3:\d+: /m);
    expect(bundled).toEqual(run(['parse', '-'], true, junk));
  });
});

// diagram --format svg starts Graphviz's dot: the bundle binds node:child_process when first called.
describeGraphviz('the bundle starts a process as the modules do', () => {
  it('virtables diagram --format svg', () => {
    const args = ['diagram', seed('lab-host.save'), '--format', 'svg'];
    const bundled = run(args, false);
    expect(bundled.status).toBe(0);
    expect(bundled.stdout).toMatch(/^<\?xml|^<svg/);
    expect(bundled).toEqual(run(args, true));
  });
});
