// Live mode and what it is handed: connection URIs that make virsh run a program (shown first
// with the real virsh: `qemu+ext:///system?command=PROG` runs PROG), names and collected files
// holding control characters, and a network name too long for the file the save directory
// would keep it in.

import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readBytesFromDisk } from '../../src/input/disk.js';
import type { Io } from '../../src/cli/io.js';
import { runLive } from '../../src/cli/live.js';
import { UsageError } from '../../src/model/errors.js';
import { LAYOUT } from '../../src/live/layout.js';
import { zxRunner, type CommandResult, type Runner } from '../../src/live/run.js';
import { connectProblem, connectSource } from '../../src/live/uri.js';
import { runCli } from '../helpers/cli.js';
import { describeWithTool, REPO_CORPUS } from '../helpers/env.js';

const LAB = join(REPO_CORPUS, 'live', 'lab-host');
const scratch = mkdtempSync(join(tmpdir(), 'virtables-hostile-live-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function captureIo(env: Record<string, string> = {}): { io: Io; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: (t) => void (out += t),
      stderr: (t) => void (err += t),
      stdoutIsTTY: false,
      stderrIsTTY: false,
      env,
      readBytes: readBytesFromDisk,
    },
    out: () => out,
    err: () => err,
  };
}

/** runLive as main runs it: a usage error is printed and exits 2. */
async function live(argv: string[], io: Io, runner: Runner): Promise<number> {
  try {
    return await runLive(argv, io, runner);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`virtables ${e.message}\n`);
    return 2;
  }
}

const ok = (text: string | Uint8Array): CommandResult => ({
  kind: 'ran',
  code: 0,
  stdout: typeof text === 'string' ? new TextEncoder().encode(text) : text,
  stderr: '',
});

/** A host answering from lab-host's files, with the given network names; records what it is asked. */
function scriptedHost(names: readonly string[], stderr = ''): { runner: Runner; asked: string[][] } {
  const asked: string[][] = [];
  const xml = readFileSync(join(LAB, LAYOUT.networks, 'lab-nat.xml'));
  const runner: Runner = async (argv) => {
    asked.push([...argv]);
    if (argv[0] === 'iptables-save') return ok(readFileSync(join(LAB, LAYOUT.iptables)));
    if (argv[0] === 'ip6tables-save') return ok(readFileSync(join(LAB, LAYOUT.ip6tables)));
    if (argv[0] === 'nft')
      return stderr === '' ? { kind: 'not-found' } : { kind: 'ran', code: 1, stdout: new Uint8Array(0), stderr };
    if (argv.includes('net-list')) return ok(names.map((n) => `${n}\n`).join(''));
    if (argv.includes('net-dumpxml')) return ok(xml);
    throw new Error(`not scripted: ${argv.join(' ')}`);
  };
  return { runner, asked };
}

/** URIs that make virsh run a program, each with what the refusal must say. */
const EXECUTING: ReadonlyArray<[string, RegExp]> = [
  [
    'qemu+ext:///system?command=PROG',
    /runs a program: the ext transport runs the program its command= parameter names/,
  ],
  ['qemu+ext:///system?COMMAND=PROG', /runs a program/],
  ['qemu+ext:///system?%63ommand=PROG', /runs a program/],
  ['qemu+ssh://localhost/system?command=PROG', /runs a program: the ssh transport runs ssh/],
  ['qemu+SSH://localhost/system', /runs a program/],
  ['qemu+libssh://h/system?netcat=PROG', /runs a program: the libssh transport/],
  ['qemu+libssh2://h/system', /runs a program: the libssh2 transport/],
];

describeWithTool('virsh', 'libvirt-clients', 'connection URIs that run a program', () => {
  const prog = join(scratch, 'prog');
  const ran = join(scratch, 'prog-ran');
  writeFileSync(prog, `#!/bin/sh\ntouch '${ran}'\n`);
  chmodSync(prog, 0o755);

  it('real virsh runs the program these URIs name; live refuses each before running anything', async () => {
    for (const [template, reason] of EXECUTING.filter(([u]) => u.includes('PROG') && !u.includes('libssh'))) {
      const uri = template.replace('PROG', prog);
      rmSync(ran, { force: true });
      spawnSync('virsh', ['--readonly', '--connect', uri, 'net-list', '--name'], { encoding: 'utf8', timeout: 20_000 });
      expect([uri, existsSync(ran)]).toEqual([uri, true]);
      rmSync(ran, { force: true });
      const r = await runCli(['live', '--connect', uri]);
      expect([r.code, r.stdout, existsSync(ran)]).toEqual([2, '', false]);
      expect(r.stderr).toMatch(reason);
    }
  });
});

describe('which URIs live passes to virsh', () => {
  it("refuses every transport that runs a program, and any URI that reaches another host's libvirt", () => {
    for (const [uri, reason] of EXECUTING)
      expect([uri, connectProblem(uri)]).toEqual([uri, expect.stringMatching(reason)]);
    const refused: ReadonlyArray<[string, RegExp]> = [
      ['qemu+tls://h/system', /names a host \(h\)/],
      ['qemu+tcp:///system', /tcp transport, which reaches another host/],
      ['qemu://h/system', /names a host/],
      ['qemu://root@/system', /names a host/],
      ['qemu:///system?netcat=nc', /parameter 'netcat' \(it names a program to run\)/],
      ['qemu+unix:///system?proxy=native', /parameter 'proxy'/],
      ['qemu:///system?keyfile=/k', /parameter 'keyfile'/],
      ['qemu:///system?socket=run/sock', /not an absolute path/],
      ['qemu:///system?mode=other', /mode=other is not one of/],
      ['qemu:///system#x', /fragment/],
      ['qemu+foo:///system', /unknown transport 'foo'/],
      ['hail', /an alias from libvirt.conf is not followed/],
      ['qemu:/system', /not a libvirt URI/],
      ['qemu:///system?socket=/a%0a', /control character/],
      ['qemu:///system?%zz=1', /badly escaped/],
    ];
    for (const [uri, reason] of refused)
      expect([uri, connectProblem(uri)]).toEqual([uri, expect.stringMatching(reason)]);
    for (const uri of [
      'qemu:///system',
      'qemu:///session',
      'network:///system?mode=legacy',
      'qemu+unix:///system?socket=/run/libvirt/libvirt-sock',
      'test:///default',
      'xen:///',
    ]) {
      expect([uri, connectProblem(uri)]).toEqual([uri, null]);
    }
  });

  it('checks the URI virsh would take without --connect: the variables, then uri_default in libvirt.conf', async () => {
    const none = () => null;
    expect(connectSource(undefined, { LIBVIRT_DEFAULT_URI: 'qemu+ext:///x' }, 0, none)).toEqual({
      uri: 'qemu+ext:///x',
      from: 'LIBVIRT_DEFAULT_URI',
    });
    expect(connectSource(undefined, { VIRSH_DEFAULT_CONNECT_URI: 'qemu:///system' }, 0, none)).toEqual({
      uri: 'qemu:///system',
      from: 'VIRSH_DEFAULT_CONNECT_URI',
    });
    const conf = (path: string) =>
      path === '/home/u/.config/libvirt/libvirt.conf'
        ? '# uri_default = "qemu:///system"\nuri_default = "qemu+ssh://h/system"\n'
        : null;
    expect(connectSource(undefined, { HOME: '/home/u' }, 1000, conf)).toEqual({
      uri: 'qemu+ssh://h/system',
      from: 'uri_default in /home/u/.config/libvirt/libvirt.conf',
    });
    expect(connectSource(undefined, {}, 0, none)).toEqual({ uri: null, from: 'virsh default' });
    const { runner, asked } = scriptedHost(['lab-nat']);
    const { io, err } = captureIo({ LIBVIRT_DEFAULT_URI: 'qemu+ext:///system?command=/bin/true' });
    expect(await live([], io, runner)).toBe(2);
    expect(err()).toBe(
      'virtables live: the libvirt URI "qemu+ext:///system?command=/bin/true" (LIBVIRT_DEFAULT_URI) runs a program: the ext transport runs the program its command= parameter names; live runs only its read-only commands\n',
    );
    expect(asked).toEqual([]);
  });

  it('virsh runs with the URI given explicitly, the default-URI variables removed and LIBVIRT_AUTOSTART=0', async () => {
    const seen: Array<NodeJS.ProcessEnv> = [];
    const watch = ((_file: string, _args: readonly string[], options: SpawnOptions) => {
      seen.push({ ...options.env });
      return spawn('true', [], options);
    }) as typeof spawn;
    const runner = zxRunner({
      env: { PATH: process.env.PATH, LIBVIRT_DEFAULT_URI: 'qemu+ext:///x', VIRSH_DEFAULT_CONNECT_URI: 'qemu+ext:///y' },
      spawn: watch,
    });
    await runner(['virsh', '--readonly', '--connect', 'qemu:///session', 'net-list', '--name']);
    expect(seen).toHaveLength(1);
    expect([seen[0]!.LIBVIRT_AUTOSTART, seen[0]!.LIBVIRT_DEFAULT_URI, seen[0]!.VIRSH_DEFAULT_CONNECT_URI]).toEqual([
      '0',
      undefined,
      undefined,
    ]);
  });
});

/** Any character a terminal would act on (ESC, BEL, CSI, …) but tab and line feed. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('what live prints of what it collected', () => {
  it('names and messages with control characters are shown escaped, never sent to the terminal', async () => {
    const { runner } = scriptedHost(['lab-nat', 'title\u001b]0;owned\u0007', 'csi\u009b2J'], 'nft: \u001b[2Jcleared\n');
    const { io, out, err } = captureIo();
    expect(await live(['--connect', 'qemu:///system'], io, runner)).toBe(2);
    expect(RAW_CONTROL.test(out() + err())).toBe(false);
    expect(err()).toContain(
      'virtables live: could not collect libvirt: network "title\\x1b]0;owned\\x07" not collected: its name contains a control character or line break\n',
    );
    expect(err()).toContain('network "csi\\x9b2J" not collected');
    expect(err()).toContain('\\x1b[2Jcleared');
    expect(out()).toContain('  libvirt networks  lab-nat (running)\n');
  });

  it('a collection directory with control characters in its manifest and file names', async () => {
    const dir = join(scratch, 'from-dir');
    cpSync(LAB, dir, { recursive: true });
    writeFileSync(
      join(dir, LAYOUT.manifest),
      `${readFileSync(join(LAB, LAYOUT.manifest), 'utf8').replace(/^host: .*$/m, 'host: lab\u001b[2J\u009b31m')}note: see \u001b]8;;http://x\u0007here\r`,
    );
    writeFileSync(
      join(dir, LAYOUT.networks, 'evil\u001b[31m.xml'),
      readFileSync(join(LAB, LAYOUT.networks, 'lab-nat.xml')),
    );
    const { io, out, err } = captureIo();
    expect(
      await live(['--from-dir', dir], io, async () => {
        throw new Error('--from-dir runs nothing');
      }),
    ).toBe(2);
    expect(RAW_CONTROL.test(out() + err())).toBe(false);
    expect(out().split('\n')[0]).toMatch(/^virtables live: lab\\x1b\[2J\\x9b31m, /);
    expect(err()).toContain(
      `could not collect libvirt: ${join(dir, LAYOUT.networks)}/evil\\x1b[31m.xml not read: its name holds a control character`,
    );
    expect(err()).toContain('note: see \\x1b]8;;http://x\\x07here\n');
  });

  it('a network name too long for a file name: a clear error, and nothing written to --save-dir', async () => {
    const long = `net-${'x'.repeat(260)}`;
    const { runner } = scriptedHost(['lab-nat', long]);
    const dir = join(scratch, 'saved-long');
    const { io, err } = captureIo();
    expect(await live(['--connect', 'qemu:///system', '--save-dir', dir], io, runner)).toBe(2);
    // The name itself is cut in the message (a long run of input is shown by its start and length).
    expect(err()).toBe(
      `virtables live: --save-dir cannot hold network "${long.slice(0, 79)}…(267 characters) as networks/NAME.xml its file name is 268 bytes, more than a file name may be (255); nothing was written (audit without --save-dir)\n`,
    );
    expect(existsSync(join(dir, LAYOUT.manifest))).toBe(false);
    // Without --save-dir the same host is collected and audited, the long name included.
    const plain = captureIo();
    expect(await live(['--connect', 'qemu:///system'], plain.io, scriptedHost(['lab-nat', long]).runner)).toBeLessThan(
      2,
    );
    expect(plain.out()).toContain(`${long} (running)`);
  });
});
