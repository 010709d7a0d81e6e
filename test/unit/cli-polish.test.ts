// The CLI's finish: the manual page and `help COMMAND`, --quiet, the progress line on a terminal,
// and shell completion (bash: syntax-checked and driven like bash drives it; zsh: syntax-checked
// and loaded by compinit when zsh is installed, its structure checked always).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSave, PROGRESS_LINES } from '../../grammar/iptables-save.js';
import { bashScript, commandInfos, zshScript } from '../../src/cli/completion.js';
import { readBytesFromDisk } from '../../src/input/disk.js';
import type { Io } from '../../src/cli/io.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { EXAMPLES, main, manual } from '../../src/cli/main.js';
import { SPECS, type CommandName } from '../../src/cli/spec.js';
import { progressFor } from '../../src/cli/progress.js';
import { generateDump } from '../bench/generate.js';
import { REPO_CORPUS, STRICT } from '../helpers/env.js';

const scratch = mkdtempSync(join(tmpdir(), 'virtables-polish-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function captureIo(options: { tty?: boolean; env?: Record<string, string>; stdin?: string } = {}): {
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
      readBytes: (p) => (p === '-' ? new TextEncoder().encode(options.stdin ?? '') : readBytesFromDisk(p)),
    },
    out: () => out,
    err: () => err,
  };
}

async function cli(argv: string[], options: Parameters<typeof captureIo>[0] = {}) {
  const c = captureIo(options);
  const code = await main(argv, c.io);
  return { code, out: c.out(), err: c.err() };
}

describe('virtables --help: a manual page', () => {
  it('has the sections of a man page, in order, listing every registered command', async () => {
    const { code, out } = await cli(['--help']);
    expect(code).toBe(0);
    const sections = out.split('\n').filter((l) => /^[A-Z][A-Z ]+$/.test(l));
    expect(sections).toEqual([
      'NAME',
      'SYNOPSIS',
      'DESCRIPTION',
      'COMMANDS',
      'GLOBAL OPTIONS',
      'EXIT STATUS',
      'ENVIRONMENT',
      'EXAMPLES',
      'SEE ALSO',
    ]);
    const commands = out.slice(out.indexOf('\nCOMMANDS\n'), out.indexOf('\nGLOBAL OPTIONS\n'));
    for (const [name, c] of Object.entries(COMMANDS))
      expect(commands).toContain(`    ${name.padEnd(10)}  ${c.summary}`);
    expect((await cli(['help'])).out).toBe(out);
    expect((await cli(['-h'])).out).toBe(out);
  });

  it('every example runs a registered command', () => {
    for (const [, cmd] of EXAMPLES) {
      for (const line of cmd.split('\n').filter((l) => l.includes('virtables '))) {
        const name = line.slice(line.indexOf('virtables ') + 'virtables '.length).split(' ')[0]!;
        expect([line, name in COMMANDS]).toEqual([line, true]);
      }
    }
    expect(manual()).toContain('        $ virtables live --from-dir host-2026-11-22 --format json');
  });

  it("help COMMAND: NAME, the command's own help, SEE ALSO", async () => {
    const explain = await cli(['help', 'explain']);
    const own = await cli(['explain', '--help']);
    expect(explain.code).toBe(0);
    expect(
      explain.out.startsWith(
        `NAME\n    virtables explain — ${COMMANDS.explain!.summary}\n\n${own.out.trimEnd()}\n\nSEE ALSO\n    virtables --help`,
      ),
    ).toBe(true);
    expect((await cli(['help', 'live'])).out).toMatch(/SEE ALSO\n {4}virtables --help; .*docs\/commands\/live\.md\n$/);
    const unknown = await cli(['help', 'frobnicate']);
    expect([unknown.code, unknown.err.split('\n')[0]]).toEqual([2, "virtables help: unknown command 'frobnicate'"]);
  });

  it('virtables alone: the short usage, exit 2', async () => {
    const { code, out } = await cli([]);
    expect([code, out.split('\n')[0]]).toEqual([
      2,
      'Usage: virtables [--quiet] COMMAND [options]   (virtables COMMAND --help for details)',
    ]);
  });
});

describe('--quiet', () => {
  const antispoof = join(REPO_CORPUS, 'xen', 'network-bridge-antispoof-3.0.0', 'antispoof.xen');
  const args = ['compile', antispoof, '--flavor', 'xen-bridge', '--xen-version', '4.5'];

  it('drops notes, before or after the command, and keeps the result', async () => {
    const loud = await cli(args);
    expect(loud.err).toMatch(/^virtables compile: note: xen-bridge: antispoof=yes is a network-bridge option/);
    for (const quiet of [
      ['--quiet', ...args],
      [...args, '-q'],
      ['-q', ...args.slice(0, 2), '--quiet', ...args.slice(2)],
    ]) {
      const r = await cli(quiet);
      expect([r.code, r.err, r.out]).toEqual([0, '', loud.out]);
    }
  });

  it('keeps errors', async () => {
    const r = await cli(['--quiet', 'parse', join(REPO_CORPUS, 'nonexistent.save')]);
    expect([r.code, r.err]).toEqual([
      2,
      `virtables parse: ${join(REPO_CORPUS, 'nonexistent.save')}: no such file\n(see 'virtables parse --help')\n`,
    ]);
  });
});

describe('progress line', () => {
  it('waits, then redraws in place at most every so often, and clears at the end', () => {
    const c = captureIo({ tty: true });
    let now = 0;
    const p = progressFor(c.io, { delayMs: 300, everyMs: 100, now: () => now });
    p.update('a');
    now = 299;
    p.update('b');
    expect(c.err()).toBe('');
    now = 300;
    p.update('c');
    now = 350;
    p.update('d');
    now = 400;
    p.update('e');
    p.done();
    expect(c.err()).toBe('\r\u001b[Kc\r\u001b[Ke\r\u001b[K');
  });

  it('never on a pipe, under --quiet or TERM=dumb', () => {
    for (const io of [captureIo(), captureIo({ tty: true, env: { TERM: 'dumb' } })]) {
      const p = progressFor(io.io, { delayMs: 0, everyMs: 0 });
      p.update('x');
      p.done();
      expect(io.err()).toBe('');
    }
    const quiet = captureIo({ tty: true });
    const p = progressFor({ ...quiet.io, quiet: true }, { delayMs: 0 });
    p.update('x');
    expect(quiet.err()).toBe('');
  });

  it('the parser reports every PROGRESS_LINES lines with the rules so far', () => {
    const dump = generateDump(30);
    const seen: Array<[number, number]> = [];
    const parsed = parseSave(dump.text, { file: 'gen', onProgress: (lines, rules) => seen.push([lines, rules]) });
    const lines = dump.text.split('\n');
    expect(seen.map(([l]) => l)).toEqual(
      Array.from({ length: Math.floor(lines.length / PROGRESS_LINES) }, (_, i) => (i + 1) * PROGRESS_LINES),
    );
    // rules counted on the lines before the reported one
    for (const [l, r] of seen) expect(r).toBe(lines.slice(0, l - 1).filter((x) => x.startsWith('-A ')).length);
    expect(parsed.tables.flatMap((t) => t.chains.flatMap((c) => c.rules))).toHaveLength(dump.rules);
  });

  it('parse on a terminal: "parsing FILE: N rules…", then the line is cleared', async () => {
    const file = join(scratch, 'big.save');
    writeFileSync(file, generateDump(100).text);
    const r = await cli(['parse', file], { tty: true, env: { VIRTABLES_PROGRESS_DELAY_MS: '0' } });
    expect(r.code).toBe(0);
    const frames = r.err.split('\r\u001b[K').filter((f) => f !== '');
    expect(frames.length).toBeGreaterThan(0);
    for (const f of frames)
      expect(f).toMatch(
        new RegExp(`^parsing ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: \\d{1,3}(,\\d{3})* rules…$`),
      );
    expect(r.err.endsWith('\r\u001b[K')).toBe(true);
    expect((await cli(['parse', file], { env: { VIRTABLES_PROGRESS_DELAY_MS: '0' } })).err).toBe('');
  });
});

/** Runs the bash script's completion for a command line (the cursor at its end) and returns the offers. */
function bashComplete(script: string, words: string[], cwd: string): string[] {
  const driver = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w.replace(/'/g, "'\\''")}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _virtables; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', driver], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

const zshReason =
  spawnSync('zsh', ['--version'], { stdio: 'ignore' }).status === 0
    ? null
    : "zsh is not installed (apt-get install zsh): only the script's structure is checked";

describe('virtables completion', async () => {
  const infos = await commandInfos();
  const bash = (await cli(['completion', 'bash'])).out;
  const zsh = (await cli(['completion', 'zsh'])).out;

  it('is made from the command table the parser reads', () => {
    expect(infos.map((c) => c.name)).toEqual(Object.keys(COMMANDS));
    for (const c of infos) {
      const spec = SPECS[c.name as CommandName];
      expect([c.name, c.flags.map((f) => f.long)]).toEqual([c.name, ['help', ...Object.keys(spec.options)]]);
    }
    expect(bash).toBe(bashScript(infos, '0.1.0'));
    expect(zsh).toBe(zshScript(infos, '0.1.0'));
  });

  it("the table's fixed values are the program's own lists", async () => {
    const { FLAVORS } = await import('../../src/engine/program.js');
    const { SEVERITIES } = await import('../../src/audit/types.js');
    expect(Object.keys(SPECS.compile.options.flavor.choices)).toEqual([...FLAVORS]);
    expect(Object.keys(SPECS.audit.options['fail-on'].choices)).toEqual([...SEVERITIES]);
    expect(Object.keys(SPECS.live.options['fail-on'].choices)).toEqual([...SEVERITIES]);
    expect(Object.keys(SPECS.audit.options.flavor.choices)).toEqual(FLAVORS.filter((f) => f.startsWith('libvirt')));
  });

  it('every flag a command declares is in its help, and every --format value its help lists is accepted', async () => {
    for (const c of infos) {
      const help = (await cli([c.name, '--help'])).out;
      // (--help is every command's, and the manual says so)
      for (const f of c.flags.filter((x) => x.long !== 'help'))
        expect([c.name, f.long, help.includes(`--${f.long}`)]).toEqual([c.name, f.long, true]);
      const format = c.flags.find((f) => f.long === 'format');
      if (c.name !== 'demo' && c.name !== 'completion')
        expect([c.name, (format?.choices.length ?? 0) > 0]).toEqual([c.name, true]);
    }
    // A listed value parses: the command gets past option checking to its own work.
    const lab = join(REPO_CORPUS, 'live', 'lab-host');
    for (const f of infos.find((c) => c.name === 'live')!.flags.find((x) => x.long === 'format')!.choices) {
      expect([f, (await cli(['live', '--from-dir', lab, '--format', f])).code]).toEqual([f, 0]);
    }
  });

  it('bash: valid syntax', () => {
    const r = spawnSync('bash', ['-n'], { input: bash, encoding: 'utf8' });
    expect([r.status, r.stderr]).toEqual([0, '']);
  });

  it('bash: completes commands, flags, their values and files as bash would offer them', () => {
    const cwd = join(REPO_CORPUS, 'seed-lab');
    expect(bashComplete(bash, ['virtables', 'ex'], cwd)).toEqual(['explain']);
    expect(bashComplete(bash, ['virtables', ''], cwd)).toEqual([...Object.keys(COMMANDS), 'help']);
    expect(bashComplete(bash, ['virtables', '--q'], cwd)).toEqual(['--quiet']);
    expect(bashComplete(bash, ['virtables', 'explain', '--format', ''], cwd)).toEqual(['table', 'text', 'json']);
    expect(bashComplete(bash, ['virtables', 'explain', '--format', '=', 't'], cwd)).toEqual(['table', 'text']);
    expect(bashComplete(bash, ['virtables', '-q', 'live', '--f'], cwd)).toEqual([
      '--format',
      '--fail-on',
      '--from-dir',
    ]);
    expect(bashComplete(bash, ['virtables', 'live', '--fail-on', ''], cwd)).toEqual(['error', 'warning', 'info']);
    expect(bashComplete(bash, ['virtables', 'live', '--format', 's'], cwd)).toEqual(['sarif']);
    expect(bashComplete(bash, ['virtables', 'compile', '--family', ''], cwd)).toEqual(['ipv4', 'ipv6']);
    expect(bashComplete(bash, ['virtables', 'completion', ''], cwd)).toEqual(['bash', 'zsh']);
    expect(bashComplete(bash, ['virtables', 'help', 'co'], cwd)).toEqual(['compile', 'completion']);
    expect(bashComplete(bash, ['virtables', 'explain', 'lab-'], cwd)).toEqual(['lab-host.save']);
    const dirs = readdirSync(REPO_CORPUS, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(bashComplete(bash, ['virtables', 'live', '--from-dir', ''], REPO_CORPUS).sort()).toEqual(dirs.sort());
    expect(dirs).toContain('live');
    expect(bashComplete(bash, ['virtables', 'demo', ''], cwd)).toEqual([]);
  });

  it('zsh: every command has its case, every flag its spec, values listed', () => {
    expect(zsh.split('\n')[0]).toBe('#compdef virtables');
    expect(zsh).toContain('compdef _virtables virtables');
    for (const c of infos) {
      const body = zsh.slice(
        zsh.indexOf(`\n        ${c.name})\n`),
        zsh.indexOf(' ;;', zsh.indexOf(`\n        ${c.name})\n`)),
      );
      expect([c.name, body.length > 0]).toEqual([c.name, true]);
      for (const f of c.flags) expect([c.name, f.long, body.includes(`--${f.long}`)]).toEqual([c.name, f.long, true]);
      expect(zsh).toContain(`'${c.name}:`);
    }
    expect(zsh).toContain("'(--format -f)'{--format,-f}'[one of text, json, sarif]:format:(text json sarif)'");
    expect(zsh).toContain("'*--net[a network definition (libvirt XML, Xen set-up) or a directory of them]:net:_files'");
    expect(zsh).toContain("':from-dir:_files -/'".slice(1, -1));
  });

  it.skipIf(zshReason !== null && !STRICT)('zsh: valid syntax, and compinit registers it for virtables', () => {
    if (zshReason) throw new Error(`VIRTABLES_REQUIRE_ALL=1 but ${zshReason}`);
    const n = spawnSync('zsh', ['-n'], { input: zsh, encoding: 'utf8' });
    expect([n.status, n.stderr]).toEqual([0, '']);
    const file = join(scratch, 'virtables.zsh');
    writeFileSync(file, zsh);
    const r = spawnSync(
      'zsh',
      [
        '-f',
        '-c',
        `autoload -U compinit && compinit -u -D && source ${file} && print -r -- $_comps[virtables] && whence -w _virtables_commands`,
      ],
      { encoding: 'utf8', env: { ...process.env, HOME: scratch } },
    );
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '_virtables\n_virtables_commands: function\n', '']);
  });
  if (zshReason) console.warn(`[virtables] ${zshReason}`);

  it('usage', async () => {
    const r = await cli(['completion', 'fish']);
    expect([r.code, r.err.split('\n')[0]]).toEqual([
      2,
      "virtables completion: give the shell: bash or zsh (got 'fish')",
    ]);
  });
});

describe('messages for people who mistype or wait', () => {
  it('an unknown option, command or value gets a "did you mean"', async () => {
    expect((await cli(['audit', '--fial-on', 'warning', '-'])).err).toContain(
      "virtables audit: Unknown option '--fial-on' (did you mean '--fail-on'?)",
    );
    expect((await cli(['trace', 'x', '--fromm', 'a'])).err).toContain(
      "Unknown option '--fromm' (did you mean '--from'?)",
    );
    expect((await cli(['audti'])).err).toContain("virtables: unknown command 'audti' (did you mean 'audit'?)");
    expect((await cli(['audit', '-', '--format', 'jsn'])).err).toContain(
      "--format must be one of text, json, sarif, html (got 'jsn'; did you mean 'json'?)",
    );
    // Nothing close: no guess.
    expect((await cli(['audit', '--only', 'x'])).err).toMatch(/Unknown option '--only'\n/);
  });

  it('a bare audit or explain on a terminal says it reads standard input', async () => {
    const c = captureIo({ stdin: '' });
    await main(['audit'], { ...c.io, stdinIsTTY: true });
    expect(c.err()).toContain(
      "virtables audit: reading an iptables-save dump from standard input (end with Ctrl-D; or give a file, see 'virtables audit --help')",
    );
    const piped = captureIo({ stdin: '' });
    await main(['audit'], piped.io);
    expect(piped.err()).not.toContain('reading an iptables-save dump');
    const e = captureIo({ stdin: '' });
    await main(['explain'], { ...e.io, stdinIsTTY: true });
    expect(e.err()).toContain('virtables explain: reading an iptables-save dump from standard input');
  });
});
