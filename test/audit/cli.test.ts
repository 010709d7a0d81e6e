// virtables audit as a user runs it: formats, exit codes, --fail-on, standard input, inputs
// given as positionals (a pre-commit hook's changed files), and errors without stack traces.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readBytesFromDisk } from '../../src/input/disk.js';
import { runCli } from '../helpers/cli.js';
import { AUDIT, SEED } from './harness.js';

const natted = join(SEED, 'natted.xml');
// host-only with a DNS forwarder: a warning on any era (libvirt 5.1+ alone refuses outside names).
const FORWARDER = join(AUDIT, 'dns-on-isolated-network', 'host-only-forwarder.xml');

describe('virtables audit', () => {
  it('--help lists the checks', async () => {
    const r = await runCli(['audit', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--fail-on');
    expect(r.stdout).toContain('dns-on-isolated-network');
  });

  it('text: grouped by network, each finding with its dump line, a summary', async () => {
    const r = await runCli(['audit', join(AUDIT, 'shadowed-rule/admin-drop-first.save'), '--net', natted]);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    const header = lines.findIndex((l) => l.startsWith('natted (virbr2, 192.168.124.0/24) — running, nat'));
    const host = lines.findIndex((l) => l === 'host');
    const finding = lines.findIndex((l) => /^ {2}error {3}shadowed-rule .*admin-drop-first\.save:31$/.test(l));
    expect(header).toBeGreaterThanOrEqual(0);
    expect(finding).toBeGreaterThan(header);
    expect(host).toBeGreaterThan(finding);
    expect(lines[finding + 1]!.trim()).toBe('-A LIBVIRT_FWO -s 192.168.124.0/24 -i virbr2 -j ACCEPT');
    expect(r.stdout).not.toContain('\u001b[');
    expect(lines.at(-2)).toBe('2 findings: 1 error, 0 warnings, 1 info');
  });

  it('on a terminal: severities coloured, unless NO_COLOR', async () => {
    const tty = async (env: Record<string, string>) => {
      let out = '';
      await main(['audit', join(AUDIT, 'shadowed-rule/admin-drop-first.save'), '--net', natted], {
        stdout: (t) => (out += t),
        stderr: () => {},
        stdoutIsTTY: true,
        stderrIsTTY: true,
        env,
        readBytes: readBytesFromDisk,
      });
      return out;
    };
    expect(await tty({})).toContain('\u001b[31merror  \u001b[39m');
    expect(await tty({ NO_COLOR: '1' })).not.toContain('\u001b[');
  });

  it('json: findings with id, severity, network, message, fix, location; networks', async () => {
    const r = await runCli(['audit', join(AUDIT, 'host-only.save'), '--net', FORWARDER, '--format', 'json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.findings).toEqual([
      expect.objectContaining({
        id: 'dns-on-isolated-network',
        severity: 'warning',
        network: 'host-only',
        location: expect.objectContaining({ file: join(AUDIT, 'host-only.save'), line: 30 }),
      }),
    ]);
    expect(out.findings[0].fix).toContain("<dns enable='no'/>");
    expect(out.findings[0].message).toContain("<forwarder addr='192.0.2.53'/>");
    expect(out.networks).toEqual([
      expect.objectContaining({
        name: 'host-only',
        state: 'running',
        bridge: 'virbr1',
        subnets: ['192.168.123.0/24'],
        mode: 'none',
        verdict: 'isolated',
      }),
    ]);
    expect(out.hosts[0].flavor).toEqual(expect.objectContaining({ flavor: 'libvirt', source: 'detected' }));
    expect(out.summary).toEqual({ error: 0, warning: 1, info: 0 });
  });

  it('--fail-on decides the exit status', async () => {
    const args = ['audit', join(AUDIT, 'host-only.save'), '--net', FORWARDER, '--format', 'json'];
    expect((await runCli(args)).code).toBe(0);
    expect((await runCli([...args, '--fail-on', 'warning'])).code).toBe(1);
    expect((await runCli([...args, '--fail-on', 'info'])).code).toBe(1);
    const clean = ['audit', join(AUDIT, 'natted.save'), '--net', natted, '--format', 'json'];
    expect((await runCli([...clean, '--fail-on', 'warning'])).code).toBe(0);
    expect((await runCli([...clean, '--fail-on', 'info'])).code).toBe(1);
  });

  it('reads standard input; a network XML among the positionals is taken as running', async () => {
    const r = await runCli(
      ['audit', '-', FORWARDER, '--format', 'json'],
      readFileSync(join(AUDIT, 'host-only.save'), 'utf8'),
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.findings.map((f: { id: string; location: { file: string } }) => `${f.id} ${f.location.file}`)).toEqual([
      'dns-on-isolated-network -',
    ]);
  });

  it('--skip leaves a check out; --flavor and --libvirt-version are honoured', async () => {
    const r = await runCli([
      'audit',
      join(AUDIT, 'host-only.save'),
      '--net',
      FORWARDER,
      '--skip',
      'dns-on-isolated-network',
      '--format',
      'json',
    ]);
    expect(JSON.parse(r.stdout).findings).toEqual([]);
    const legacy = await runCli([
      'audit',
      join(SEED, 'expected-0.6.3/natted.save'),
      '--net',
      natted,
      '--flavor',
      'libvirt-legacy',
      '--libvirt-version',
      '0.6.3',
      '--format',
      'json',
    ]);
    expect(JSON.parse(legacy.stdout).hosts[0].eras).toEqual(['libvirt 0.6.3']);
    const wrongEra = await runCli([
      'audit',
      join(SEED, 'expected-0.6.3/natted.save'),
      '--net',
      natted,
      '--flavor',
      'libvirt-legacy',
      '--libvirt-version',
      '5.0.0',
      '--format',
      'json',
    ]);
    expect(
      JSON.parse(wrongEra.stdout).findings.filter((f: { id: string }) => f.id === 'missing-rule').length,
    ).toBeGreaterThan(0);
  });

  it('dumps in one directory are one host; two dumps of one family in one directory are two hosts', async () => {
    const r = await runCli(['audit', join(AUDIT, 'natted.save'), join(AUDIT, 'host-only.save'), '--format', 'json']);
    const out = JSON.parse(r.stdout);
    expect(out.hosts.map((h: { files: string[] }) => h.files)).toEqual([
      [join(AUDIT, 'natted.save')],
      [join(AUDIT, 'host-only.save')],
    ]);
  });

  it('bad input: position on stderr, nothing on stdout, exit 2', async () => {
    const r = await runCli(['audit', '-', '--net', natted], '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j\nCOMMIT\n');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^-:3:\d+: /);
    for (const argv of [
      ['audit', '--format', 'xml'],
      ['audit', '--fail-on', 'fatal'],
      ['audit', '--skip', 'no-such-check'],
      ['audit', '--flavor', 'xen-nat'],
      ['audit', '--libvirt-version', 'x'],
      ['audit', 'no/such/file.save'],
    ]) {
      const bad = await runCli(argv);
      expect(bad.code).toBe(2);
      expect(bad.stdout).toBe('');
      expect(bad.stderr).not.toContain('    at ');
    }
  });
});
