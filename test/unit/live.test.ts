// Live mode: the read-only command list and the one function that runs commands, collection
// from a scripted host (its answers are the real files of corpus/live/lab-host, collected from
// libvirtd 9.0 in a namespace), what missing tools and missing root look like, the save-dir
// layout, and --from-dir. The real libvirtd run is test/kernel/live.test.ts.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readBytesFromDisk } from '../../src/input/disk.js';
import type { Io } from '../../src/cli/io.js';
import { runLive } from '../../src/cli/live.js';
import { main } from '../../src/cli/main.js';
import { commandLine, isReadOnlyCommand, READ_ONLY_COMMANDS } from '../../src/live/commands.js';
import { collectHost } from '../../src/live/collect.js';
import { LAYOUT } from '../../src/live/layout.js';
import { execute, RefusedCommand, zxRunner, type CommandResult, type Runner } from '../../src/live/run.js';
import { describeCorpus, REPO, REPO_CORPUS, SHARED_CORPUS, STRICT } from '../helpers/env.js';

const LAB = join(REPO_CORPUS, 'live', 'lab-host');
const URI = 'network:///system?mode=legacy';
const scratch = mkdtempSync(join(tmpdir(), 'virtables-live-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const ok = (text: string | Uint8Array): CommandResult => ({
  kind: 'ran',
  code: 0,
  stdout: typeof text === 'string' ? new TextEncoder().encode(text) : text,
  stderr: '',
});
const fail = (code: number, stderr: string): CommandResult => ({
  kind: 'ran',
  code,
  stdout: new Uint8Array(0),
  stderr,
});

/** Real messages, as iptables 1.8.9, nft 1.0.6 and virsh 9.0 print them (non-root, no daemon). */
const NOT_ROOT_IPTABLES =
  'iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n';
const NOT_ROOT_NFT =
  'Operation not permitted (you must be root)\nnetlink: Error: cache initialization failed: Operation not permitted\n';
const NO_DAEMON =
  "error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock-ro': No such file or directory\n";

interface FakeHost {
  readonly networks: ReadonlyArray<{ name: string; active: boolean; xml: string }>;
  /** Overrides by program (argv[0]) or by the whole argv joined with spaces. */
  readonly answers?: Readonly<Record<string, CommandResult>>;
}

/** A host that answers the listed commands from lab-host's files, recording every argv it is asked to run. */
function fakeHost(host: FakeHost): { runner: Runner; asked: string[][] } {
  const asked: string[][] = [];
  const file = (f: string) => readFileSync(join(LAB, f));
  const runner: Runner = async (argv) => {
    asked.push([...argv]);
    const override = host.answers?.[argv.join(' ')] ?? host.answers?.[argv[0]!];
    if (override) return override;
    const virsh =
      argv[0] === 'virsh'
        ? argv
            .filter((a, i) => !(i > 0 && (argv[i - 1] === '--connect' || a === '--connect' || a === '--readonly')))
            .slice(1)
        : [];
    if (argv[0] === 'iptables-save') return ok(file(LAYOUT.iptables));
    if (argv[0] === 'ip6tables-save') return ok(file(LAYOUT.ip6tables));
    if (argv[0] === 'nft') return ok(file(argv[1] === '-j' ? LAYOUT.nft : LAYOUT.nftText));
    if (virsh.join(' ') === 'net-list --all --name') return ok(host.networks.map((n) => `${n.name}\n`).join('') + '\n');
    if (virsh.join(' ') === 'net-list --name')
      return ok(
        host.networks
          .filter((n) => n.active)
          .map((n) => `${n.name}\n`)
          .join('') + '\n',
      );
    if (virsh[0] === 'net-dumpxml' && virsh[1] === '--network') {
      const n = host.networks.find((x) => x.name === virsh[2]);
      return n
        ? ok(n.xml)
        : fail(
            1,
            `error: failed to get network '${virsh[2]}'\nerror: Network not found: no network with matching name '${virsh[2]}'\n`,
          );
    }
    throw new Error(`fake host cannot answer ${JSON.stringify(argv)}`);
  };
  return { runner, asked };
}

const labXml = (n: string) => readFileSync(join(LAB, 'networks', `${n}.xml`), 'utf8');
/** lab-host's networks, plus ones whose names are shell commands and virsh options. */
const CRAFTED = 'x; rm -rf ~ $(reboot) `halt`';
const LAB_NETWORKS = [
  { name: 'lab-isolated', active: false, xml: labXml('lab-isolated') },
  { name: 'lab-nat', active: true, xml: labXml('lab-nat') },
  {
    name: CRAFTED,
    active: false,
    xml: labXml('lab-isolated').replace('<name>lab-isolated</name>', `<name>${CRAFTED}</name>`),
  },
  {
    name: '--all',
    active: false,
    xml: labXml('lab-isolated').replace('<name>lab-isolated</name>', '<name>--all</name>'),
  },
];

function captureIo(options: { tty?: boolean; env?: Record<string, string> } = {}): {
  io: Io;
  out: () => string;
  err: () => string;
} {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: (t) => void (out += t),
      stderr: (t) => void (err += t),
      stdoutIsTTY: false,
      stderrIsTTY: options.tty ?? false,
      env: options.env ?? {},
      readBytes: readBytesFromDisk,
    },
    out: () => out,
    err: () => err,
  };
}

describe('the read-only command list', () => {
  it('is exactly these commands, virsh always opened --readonly', () => {
    expect(Object.values(READ_ONLY_COMMANDS).map((t) => t.join(' '))).toEqual([
      'iptables-save',
      'ip6tables-save',
      'nft -j list ruleset',
      'nft list ruleset',
      'virsh --readonly net-list --all --name',
      'virsh --readonly --connect <uri> net-list --all --name',
      'virsh --readonly net-list --name',
      'virsh --readonly --connect <uri> net-list --name',
      'virsh --readonly net-dumpxml --network <network>',
      'virsh --readonly --connect <uri> net-dumpxml --network <network>',
    ]);
  });

  it('refuses every other argv, near misses included', () => {
    const refused = [
      ['iptables', '-F'],
      ['iptables-restore'],
      ['iptables-save', '-t', 'nat'],
      ['nft', 'flush', 'ruleset'],
      ['nft', 'list', 'ruleset', ';', 'reboot'],
      ['sh', '-c', 'iptables-save'],
      ['virsh', 'net-list', '--all', '--name'],
      ['virsh', '--readonly', 'net-destroy', 'default'],
      ['virsh', '--readonly', 'net-dumpxml', '--network', 'default', '--inactive'],
      ['virsh', '--readonly', 'net-dumpxml', '--network', ''],
      ['virsh', '--readonly', 'net-dumpxml', '--network', 'a/b'],
      ['virsh', '--readonly', 'net-dumpxml', '--network', 'a\nb'],
      ['virsh', '--readonly', '--connect', '--help', 'net-list', '--name'],
      ['virsh', '--readonly', '--connect', 'qemu+ssh://root@h/system', 'net-list', '--name'],
      ['virsh', '--readonly', '--connect', 'qemu+ext:///system?command=/bin/sh', 'net-list', '--name'],
      ['/usr/sbin/iptables-save'],
      [],
    ];
    for (const argv of refused) expect([argv, isReadOnlyCommand(argv)]).toEqual([argv, false]);
    expect(
      isReadOnlyCommand(['virsh', '--readonly', '--connect', 'qemu:///system', 'net-dumpxml', '--network', CRAFTED]),
    ).toBe(true);
  });

  it('execute refuses before any runner is asked', async () => {
    const asked: unknown[] = [];
    const runner: Runner = async (argv) => {
      asked.push(argv);
      return ok('');
    };
    await expect(execute(['iptables', '-F'], runner)).rejects.toBeInstanceOf(RefusedCommand);
    await expect(execute(['virsh', '--readonly', 'net-undefine', '--network', 'default'], runner)).rejects.toThrow(
      /not on the read-only list/,
    );
    expect(asked).toEqual([]);
    await execute(['iptables-save'], runner);
    expect(asked).toEqual([['iptables-save']]);
  });

  it('fills a slot with exactly one argv element, whatever the value holds', () => {
    expect(commandLine('virshDumpxmlAt', { '<uri>': URI, '<network>': CRAFTED })).toEqual([
      'virsh',
      '--readonly',
      '--connect',
      URI,
      'net-dumpxml',
      '--network',
      CRAFTED,
    ]);
    expect(() => commandLine('virshDumpxml', { '<network>': 'a/b' })).toThrow(/forbids/);
    expect(() => commandLine('virshDumpxml')).toThrow(/needs <network>/);
  });

  it('only src/live/run.ts can start a process (and the diagram, Graphviz dot alone)', () => {
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    const starters = [...sources(join(REPO, 'src')), ...sources(join(REPO, 'grammar'))].filter((f) =>
      /child_process|from 'zx'|import\('zx'\)|process\.binding|worker_threads/.test(readFileSync(f, 'utf8')),
    );
    expect(starters.map((f) => relative(REPO, f)).sort()).toEqual([
      join('src', 'diagram', 'graphviz.ts'),
      join('src', 'live', 'run.ts'),
    ]);
    // diagram --format svg runs `dot -Tsvg` (a filter) and `dot -V`, nothing else; live never draws.
    const graphviz = readFileSync(join(REPO, 'src', 'diagram', 'graphviz.ts'), 'utf8');
    expect([...graphviz.matchAll(/spawnSync\(([^)]*?\])/g)].map((m) => m[1])).toEqual([
      "'dot', ['-Tsvg']",
      "'dot', ['-V']",
    ]);
    expect(graphviz.match(/\w*(?:spawn|exec|fork)\w*/gi)).toEqual(['spawnSync', 'spawnSync', 'spawnSync']); // the import and the two calls
    // …and what it exports runs nothing without execute's check.
    expect(readFileSync(join(REPO, 'src', 'live', 'run.ts'), 'utf8')).toMatch(
      /if \(!isReadOnlyCommand\(argv\)\) throw new RefusedCommand\(argv\);\n\s+return runner\(argv\);/,
    );
  });
});

describe('collecting a host (scripted answers)', () => {
  it('asks only for listed commands, each network name as one argument', async () => {
    const { runner, asked } = fakeHost({ networks: LAB_NETWORKS });
    const c = await collectHost({ connect: URI, runner });
    for (const argv of asked) expect([argv, isReadOnlyCommand(argv)]).toEqual([argv, true]);
    const v = (...rest: string[]) => ['virsh', '--readonly', '--connect', URI, ...rest];
    expect(asked).toEqual([
      ['iptables-save'],
      ['ip6tables-save'],
      ['nft', '-j', 'list', 'ruleset'],
      v('net-list', '--all', '--name'),
      v('net-list', '--name'),
      ...LAB_NETWORKS.map((n) => v('net-dumpxml', '--network', n.name)),
    ]);
    // by name, whatever order virsh gave
    expect(c.networks?.map((n) => [n.name, n.active])).toEqual([
      ['--all', false],
      ['lab-isolated', false],
      ['lab-nat', true],
      [CRAFTED, false],
    ]);
    expect(new TextDecoder().decode(c.networks![3]!.xml)).toContain(`<name>${CRAFTED}</name>`);
    expect([c.problems, c.notes]).toEqual([[], []]);
    expect(c.iptables).toEqual(readFileSync(join(LAB, LAYOUT.iptables)));
  });

  it("without --connect, virsh's own default connection", async () => {
    const { runner, asked } = fakeHost({ networks: LAB_NETWORKS.slice(0, 2) });
    const c = await collectHost({ connect: null, runner });
    expect(asked.filter((a) => a[0] === 'virsh').map((a) => a.slice(0, 3))).toEqual(
      Array(4)
        .fill(['virsh', '--readonly', 'net-list'])
        .map((x, i) => (i < 2 ? x : ['virsh', '--readonly', 'net-dumpxml'])),
    );
    expect(c.connect).toBeNull();
  });

  it('not root: the dumps are refused with the reason, the networks still collected', async () => {
    const { runner } = fakeHost({
      networks: LAB_NETWORKS.slice(0, 2),
      answers: {
        'iptables-save': fail(4, NOT_ROOT_IPTABLES),
        'ip6tables-save': fail(4, NOT_ROOT_IPTABLES.replace('iptables', 'ip6tables')),
        nft: fail(1, NOT_ROOT_NFT),
      },
    });
    const c = await collectHost({ connect: URI, runner });
    expect(c.problems.map((p) => [p.source, p.kind])).toEqual([
      ['iptables-save', 'not-permitted'],
      ['ip6tables-save', 'not-permitted'],
      ['nft', 'not-permitted'],
    ]);
    expect(c.problems[0]!.message).toBe(
      'iptables-save was refused (iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)); run virtables live as root (sudo virtables live)',
    );
    expect([c.iptables, c.networks?.length]).toEqual([null, 2]);
  });

  it('no libvirt: virsh missing, or no daemon to connect to', async () => {
    const missing = await collectHost({
      connect: null,
      runner: fakeHost({ networks: [], answers: { virsh: { kind: 'not-found' } } }).runner,
    });
    expect(missing.problems).toEqual([
      {
        source: 'libvirt',
        kind: 'missing-tool',
        message:
          'virsh is not installed, so libvirt could not be asked for its networks (Debian/Ubuntu: apt-get install libvirt-clients)',
      },
    ]);
    expect(missing.networks).toBeNull();
    const down = await collectHost({
      connect: null,
      runner: fakeHost({ networks: [], answers: { virsh: fail(1, NO_DAEMON) } }).runner,
    });
    expect(down.problems.map((p) => p.kind)).toEqual(['cannot-connect']);
    expect(down.problems[0]!.message).toMatch(
      /^virsh could not connect to libvirt \(Failed to connect socket to '\/var\/run\/libvirt\/libvirt-sock-ro': No such file or directory\); is libvirtd .* --connect or LIBVIRT_DEFAULT_URI$/,
    );
  });

  it('no nft: a note, not a problem', async () => {
    const c = await collectHost({
      connect: null,
      runner: fakeHost({ networks: [], answers: { nft: { kind: 'not-found' } } }).runner,
    });
    expect([c.problems, c.nft, c.notes.length]).toEqual([[], null, 1]);
    expect(c.notes[0]).toMatch(/^nft is not installed/);
  });

  it('a network undefined between the list and its dump is named, the others collected', async () => {
    const { runner } = fakeHost({
      networks: LAB_NETWORKS.slice(0, 2),
      answers: {
        [`virsh --readonly net-dumpxml --network lab-isolated`]: fail(
          1,
          "error: failed to get network 'lab-isolated'\nerror: Network not found: no network with matching name 'lab-isolated'\n",
        ),
      },
    });
    const c = await collectHost({ connect: null, runner });
    expect(c.networks?.map((n) => n.name)).toEqual(['lab-nat']);
    expect(c.problems).toEqual([
      {
        source: 'libvirt',
        kind: 'failed',
        message:
          "virsh --readonly net-dumpxml --network lab-isolated failed with exit status 1: failed to get network 'lab-isolated'",
      },
    ]);
  });
});

const virshReason =
  spawnSync('virsh', ['--version'], { stdio: 'ignore' }).status === 0
    ? null
    : 'virsh is not installed (apt-get install libvirt-clients)';
if (virshReason && !STRICT) console.warn(`[virtables] skipping the real-runner tests: ${virshReason}`);

describe.skipIf(virshReason !== null && !STRICT)('the real runner: zx, argv straight to the program, no shell', () => {
  it('hands a crafted network name to virsh as one argument (libvirt test driver, no daemon)', async () => {
    if (virshReason) throw new Error(`VIRTABLES_REQUIRE_ALL=1 but ${virshReason}`);
    const cwd = mkdtempSync(join(scratch, 'cwd-'));
    const spawned: Array<{ file: string; args: readonly string[]; shell: unknown }> = [];
    const watch = ((file: string, args: readonly string[], options: { shell?: unknown }) => {
      spawned.push({ file, args, shell: options.shell });
      return spawn(file, args, options as never);
    }) as unknown as typeof spawn;
    const runner = zxRunner({ env: { PATH: process.env.PATH }, spawn: watch, cwd });
    const name = 'x; touch pwned $(touch pwned) `touch pwned`';
    const argv = commandLine('virshDumpxmlAt', { '<uri>': 'test:///default', '<network>': name });
    const result = await execute(argv, runner);
    expect(spawned).toEqual([{ file: expect.stringMatching(/\/virsh$/), args: argv.slice(1), shell: false }]);
    expect(result.kind === 'ran' && [result.code, result.stderr]).toEqual([
      1,
      `error: failed to get network '${name}'\nerror: Network not found: no network with matching name '${name}'\n`,
    ]);
    expect(readdirSync(cwd)).toEqual([]);
    const list = await execute(commandLine('virshNetworksAt', { '<uri>': 'test:///default' }), runner);
    expect(list.kind === 'ran' && new TextDecoder().decode(list.stdout)).toBe('default\n\n');
  });

  it('a read-only connection refuses changes even where a command could ask for one', () => {
    // Outside the list: run directly, to show what --readonly guarantees for the listed ones.
    const r = spawnSync('virsh', ['--readonly', '--connect', 'test:///default', 'net-destroy', 'default'], {
      encoding: 'utf8',
    });
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining('read only access prevents virNetworkDestroy')]);
  });
});

describe('virtables live', () => {
  const labHost = () => fakeHost({ networks: LAB_NETWORKS.slice(0, 2) }).runner;

  it('text: what was collected, then the audit of it', async () => {
    const { io, out, err } = captureIo();
    const code = await runLive(['--connect', URI], io, labHost());
    expect([code, err()]).toEqual([0, '']);
    const lines = out().split('\n');
    expect(lines.slice(1, 5)).toEqual([
      '  iptables-save     26 rules',
      '  ip6tables-save    7 rules',
      '  nft ruleset       33 rules',
      '  libvirt networks  lab-isolated (defined, not running), lab-nat (running)',
    ]);
    expect(lines[6]).toBe('virtables audit live:iptables-save.txt, live:ip6tables-save.txt, live:nft-ruleset.json');
    expect(out()).toContain(
      "\nlab-nat (virbr7, 192.168.157.0/24) — running, nat: NAT: guests on virbr7 reach outside with the host's address; outside cannot start connections to them\n  ok  no findings\n",
    );
    expect(out()).toContain('\nlab-isolated (virbr8, 192.168.158.0/24) — inactive, isolated (no <forward>): ');
    expect(out()).toContain('  info    forward-policy-accept-with-ip-forward  live:iptables-save.txt:16\n');
    expect(lines.at(-2)).toBe('1 finding: 0 errors, 0 warnings, 1 info');
  });

  it('json: the report with a collection member naming every file and network', async () => {
    const { io, out } = captureIo();
    const code = await runLive(['--format', 'json'], io, labHost());
    expect(code).toBe(0);
    const json = JSON.parse(out()) as { collection: Record<string, unknown> };
    expect(json.collection).toMatchObject({
      connect: null,
      fromDir: null,
      files: ['live:iptables-save.txt', 'live:ip6tables-save.txt', 'live:nft-ruleset.json'],
      networks: [
        { name: 'lab-isolated', active: false, file: 'live:networks/lab-isolated.xml' },
        { name: 'lab-nat', active: true, file: 'live:networks/lab-nat.xml' },
      ],
      libvirt: true,
      nft: true,
      problems: [],
    });
  });

  it('--save-dir writes the layout that --from-dir reads back', async () => {
    const dir = join(scratch, 'saved');
    const first = captureIo();
    // The crafted networks are copies of lab-isolated: same bridge, same subnet — an error to the audit.
    expect(
      await runLive(
        ['--save-dir', dir, '--format', 'json', '--connect', URI],
        first.io,
        fakeHost({ networks: LAB_NETWORKS }).runner,
      ),
    ).toBe(1);
    expect(readdirSync(dir).sort()).toEqual([
      'collected.txt',
      'ip6tables-save.txt',
      'iptables-save.txt',
      'networks',
      'nft-ruleset.json',
    ]);
    expect(readdirSync(join(dir, 'networks')).sort()).toEqual(
      ['--all.xml', 'active.txt', 'lab-isolated.xml', 'lab-nat.xml', `${CRAFTED}.xml`].sort(),
    );
    expect(readFileSync(join(dir, LAYOUT.active), 'utf8')).toBe('lab-nat\n');
    expect(readFileSync(join(dir, LAYOUT.iptables))).toEqual(readFileSync(join(LAB, LAYOUT.iptables)));
    const again = captureIo();
    expect(await runLive(['--from-dir', dir, '--format', 'json'], again.io, fakeHost({ networks: [] }).runner)).toBe(1);
    type J = {
      collection: { networks: Array<{ name: string; active: boolean }>; connect: string; fromDir: string };
      findings: Array<{ id: string; severity: string; network: string | null; location: { file: string } | null }>;
    };
    const [a, b] = [JSON.parse(first.out()) as J, JSON.parse(again.out()) as J];
    const found = (j: J) =>
      j.findings.map((f) => `${f.severity} ${f.id}${f.severity === 'error' ? ` ${f.network}` : ''}`).sort();
    // three networks on one bridge and subnet: two bridge clashes, three overlapping pairs
    expect(found(a)).toEqual([
      'error duplicate-bridge lab-isolated',
      `error duplicate-bridge ${CRAFTED}`,
      'info forward-policy-accept-with-ip-forward',
      ...Array(3).fill('warning overlapping-subnets'),
    ]);
    expect(found(b)).toEqual(found(a));
    expect(b.findings.find((f) => f.id === 'forward-policy-accept-with-ip-forward')!.location!.file).toBe(
      join(dir, LAYOUT.iptables),
    );
    expect(b.collection.networks.map((n) => [n.name, n.active]).sort()).toEqual(
      a.collection.networks.map((n) => [n.name, n.active]).sort(),
    );
    expect([b.collection.connect, b.collection.fromDir]).toEqual([URI, dir]);
    const { runner, asked } = fakeHost({ networks: [] });
    await expect(runLive(['--save-dir', dir], captureIo().io, runner)).rejects.toThrow(
      `live: --save-dir ${dir} is not empty`,
    );
    expect(asked).toEqual([]);
  });

  it('--from-dir on the real collection in corpus/live/lab-host', async () => {
    const { io, out, err } = captureIo();
    const code = await main(['live', '--from-dir', LAB], io);
    expect([code, err()]).toEqual([0, '']);
    expect(out().split('\n')[0]).toBe(`virtables live: vm, 2026-11-22T12:54:59.720Z (from ${LAB})`);
    expect(out()).toContain('\nlab-nat (virbr7, 192.168.157.0/24) — running, nat: ');
    expect(out()).toContain(
      `  info    forward-policy-accept-with-ip-forward  ${join(LAB, LAYOUT.iptables)}:16\n          :FORWARD ACCEPT\n`,
    );
    expect(out().endsWith('1 finding: 0 errors, 0 warnings, 1 info\n')).toBe(true);
    const strict = captureIo();
    expect(await main(['live', '--from-dir', LAB, '--fail-on', 'info'], strict.io)).toBe(1);
  });

  it('--from-dir on a directory made by hand: what it lacks is noted', async () => {
    const dir = join(scratch, 'by-hand');
    mkdirSync(dir);
    writeFileSync(join(dir, 'iptables-save.txt'), readFileSync(join(LAB, LAYOUT.iptables)));
    const { io, out, err } = captureIo();
    expect(await runLive(['--from-dir', dir], io, labHost())).toBe(0);
    expect(err()).toBe(`virtables live: note: ${dir} has no networks/ directory: no libvirt networks\n`);
    expect(out()).toContain('  libvirt networks  not collected');
    const quiet = captureIo();
    expect(await main(['--quiet', 'live', '--from-dir', dir], quiet.io)).toBe(0);
    expect(quiet.err()).toBe('');
    const empty = captureIo();
    mkdirSync(join(scratch, 'empty'));
    expect(await main(['live', '--from-dir', join(scratch, 'empty')], empty.io)).toBe(2);
    expect(empty.err()).toMatch(/holds none of the files live mode collects/);
  });

  it('not root: exit 2 naming what was refused, and nothing to audit without a dump', async () => {
    const { runner } = fakeHost({
      networks: LAB_NETWORKS.slice(0, 2),
      answers: {
        'iptables-save': fail(4, NOT_ROOT_IPTABLES),
        'ip6tables-save': fail(4, NOT_ROOT_IPTABLES),
        nft: fail(1, NOT_ROOT_NFT),
      },
    });
    const { io, err } = captureIo();
    expect(await runLive([], io, runner)).toBe(2);
    expect(
      err()
        .split('\n')
        .map((l) => l.slice(0, 60)),
    ).toEqual([
      'virtables live: could not collect iptables-save: iptables-sa',
      'virtables live: could not collect ip6tables-save: ip6tables-',
      'virtables live: could not collect nft: nft -j list ruleset w',
      'virtables live: nothing to audit: no iptables-save, ip6table',
      '',
    ]);
    expect(err()).toContain('run virtables live as root (sudo virtables live)');
  });

  it('no libvirt: the firewall is still audited, then exit 2 saying what is missing', async () => {
    const { runner } = fakeHost({ networks: [], answers: { virsh: { kind: 'not-found' } } });
    const { io, out, err } = captureIo();
    expect(await runLive([], io, runner)).toBe(2);
    expect(out()).toContain(
      "\nvirbr7 (192.168.157.0/24) — inferred, nat: NAT: guests on virbr7 reach outside with the host's address",
    );
    expect(err()).toBe(
      'virtables live: could not collect libvirt: virsh is not installed, so libvirt could not be asked for its networks (Debian/Ubuntu: apt-get install libvirt-clients)\n' +
        'virtables live: incomplete: libvirt could not be collected; the audit covers the rest\n',
    );
  });

  it('usage errors', async () => {
    for (const args of [
      ['--from-dir', LAB, '--connect', URI],
      ['--format', 'html'],
      ['somefile'],
      ['--fail-on', 'never'],
    ]) {
      const { io, err } = captureIo();
      expect([args, await main(['live', ...args], io)]).toEqual([args, 2]);
      expect(err()).toMatch(/^virtables live: /);
    }
  });

  it('a progress line while collecting, on a terminal only', async () => {
    const tty = captureIo({ tty: true, env: { VIRTABLES_PROGRESS_DELAY_MS: '0' } });
    await runLive(['--format', 'json'], tty.io, labHost());
    expect(tty.err()).toContain('\r\u001b[Kcollecting: iptables-save…');
    expect(tty.err().endsWith('\r\u001b[K')).toBe(true);
    const pipe = captureIo({ env: { VIRTABLES_PROGRESS_DELAY_MS: '0' } });
    await runLive(['--format', 'json'], pipe.io, labHost());
    expect(pipe.err()).toBe('');
  });
});

describe('virtables live --format sarif', () => {
  /** A real SARIF 2.1.0 validator: the rtm.5 JSON schema (draft-04) that @microsoft/jest-sarif ships. */
  async function sarifValidator() {
    // CommonJS packages: their ES default is module.exports, whose .default is the export.
    const draft04 = (await import('ajv-draft-04')).default;
    const formats = (await import('ajv-formats')).default;
    // unicodeRegExp off: the schema's language pattern is not valid with the u flag.
    const ajv = new draft04.default({ allErrors: true, strict: false, unicodeRegExp: false });
    formats.default(ajv);
    const schema = JSON.parse(
      readFileSync(
        join(REPO, 'node_modules', '@microsoft', 'jest-sarif', 'lib', 'schemas', 'sarif-2.1.0-rtm.5.json'),
        'utf8',
      ),
    ) as object;
    return ajv.compile(schema);
  }
  type Sarif = {
    runs: Array<{
      results: unknown[];
      invocations: Array<{
        executionSuccessful: boolean;
        toolExecutionNotifications: Array<{ level: string; message: { text: string }; descriptor?: { id: string } }>;
      }>;
      properties: { collection: { host: string } };
    }>;
  };

  it('a complete collection: valid SARIF, a successful invocation', async () => {
    const validate = await sarifValidator();
    const { io, out } = captureIo();
    expect(await main(['live', '--from-dir', LAB, '--format', 'sarif'], io)).toBe(0);
    const sarif = JSON.parse(out()) as Sarif;
    expect([validate(sarif), validate.errors ?? []]).toEqual([true, []]);
    expect(sarif.runs[0]!.invocations).toEqual([{ executionSuccessful: true, toolExecutionNotifications: [] }]);
    expect([sarif.runs[0]!.results.length, sarif.runs[0]!.properties.collection.host]).toEqual([1, 'vm']);
  });

  it('what could not be collected: valid SARIF, the invocation failed with one notification per problem', async () => {
    const validate = await sarifValidator();
    const { io, out } = captureIo();
    expect(
      await runLive(
        ['--format', 'sarif'],
        io,
        fakeHost({ networks: [], answers: { virsh: { kind: 'not-found' }, nft: { kind: 'not-found' } } }).runner,
      ),
    ).toBe(2);
    const sarif = JSON.parse(out()) as Sarif;
    expect([validate(sarif), validate.errors ?? []]).toEqual([true, []]);
    const [invocation] = sarif.runs[0]!.invocations;
    expect(invocation!.executionSuccessful).toBe(false);
    expect(
      invocation!.toolExecutionNotifications.map((n) => [
        n.level,
        n.descriptor?.id ?? null,
        n.message.text.slice(0, 30),
      ]),
    ).toEqual([
      ['error', 'missing-tool', 'libvirt: virsh is not installe'],
      ['note', null, 'nft is not installed: no nftab'],
    ]);
  });
});

describeCorpus('virtables live on a libvirt 10.4+ host (nftables backend)', () => {
  it('audits iptables-save, ip6tables-save and nft -j as one host, each finding once (nft-real k)', async () => {
    const K = join(SHARED_CORPUS, 'nft-real', 'k-iptables-hostfw-plus-nft');
    const k = (f: string) => readFileSync(join(K, f));
    const networks = [
      { name: 'default', active: true, xml: k('network1.xml').toString() },
      { name: 'host-only', active: true, xml: k('network2.xml').toString() },
    ];
    const answers = {
      'iptables-save': ok(k('after.iptables-save.txt')),
      'ip6tables-save': ok(k('after.ip6tables-save.txt')),
      'nft -j list ruleset': ok(k('after.nft.json')),
    };
    const { io, out, err } = captureIo();
    expect(await runLive(['--format', 'json'], io, fakeHost({ networks, answers }).runner)).toBe(1);
    expect(err()).toBe('');
    const j = JSON.parse(out()) as {
      collection: { files: string[] };
      findings: Array<{ id: string; network: string | null; message: string }>;
    };
    expect(j.collection.files).toEqual(['live:iptables-save.txt', 'live:ip6tables-save.txt', 'live:nft-ruleset.json']);
    const said = j.findings.map(
      (f) =>
        `${f.id} ${f.network} ${/(DHCP requests|DNS queries|connections to the outside)/.exec(f.message)?.[1] ?? ''}`,
    );
    expect(said.sort()).toEqual([
      'host-firewall-blocks-network default DHCP requests',
      'host-firewall-blocks-network default DNS queries',
      'host-firewall-blocks-network default connections to the outside',
      'host-firewall-blocks-network host-only DHCP requests',
      'host-firewall-blocks-network host-only DNS queries',
    ]);
  });
});
