// The command dispatcher: the manual, `help COMMAND`, --version, and each command run from the
// command table (commands.ts), its errors made messages and exit codes. Only this layer exits.

import { existsSync } from 'node:fs';
import { InputError, UsageError } from '../model/errors.js';
import { packagePath, VERSION } from '../package.js';
import { closest, commandHelp } from './args.js';
import { COMMANDS, runCommand, type Command } from './commands.js';
import { processIo, type Io } from './io.js';
import { isCommandName } from './spec.js';

function commandList(indent: string): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return Object.entries(COMMANDS)
    .map(([name, c]) => `${indent}${name.padEnd(width)}  ${c.summary}`)
    .join('\n');
}

/** What `virtables` alone prints (exit 2): the synopsis and the commands. */
function usage(): string {
  return `Usage: virtables [--quiet] COMMAND [options]   (virtables COMMAND --help for details)

virtables reads iptables-save dumps and libvirt/Xen network definitions, derives the rules
each virtual network should have, and explains, diffs, audits and traces them.
It only reads: it never changes a firewall.

Commands:
${commandList('  ')}

Exit status: 0 clean, 1 findings, 2 usage or input error.  More: virtables --help
`;
}

/** Examples for the manual page; each must name a registered command (test/unit/cli-polish.test.ts). */
export const EXAMPLES: ReadonlyArray<readonly [string, string]> = [
  [
    'Explain every rule of a host, with its libvirt networks:',
    'sudo iptables-save > host.save\nvirtables explain host.save --net /etc/libvirt/qemu/networks',
  ],
  ['What starting a network changed:', 'virtables diff before.save after.save --net default.xml'],
  ['The rules libvirt installs for a network, as a shell script:', 'virtables compile default.xml --format shell'],
  [
    'Audit a dump against the networks, as SARIF for code scanning:',
    'virtables audit host.save --net /etc/libvirt/qemu/networks --format sarif > audit.sarif',
  ],
  ["Audit this host's live state, keeping what was collected:", 'sudo virtables live --save-dir host-2026-11-22'],
  ['Audit that collection later, on another machine:', 'virtables live --from-dir host-2026-11-22 --format json'],
  ['Shell completion for this bash session:', 'source <(virtables completion bash)'],
];

/** The manual page `virtables --help` prints. */
export function manual(): string {
  const examples = EXAMPLES.map(
    ([what, cmd]) =>
      `    ${what}\n${cmd
        .split('\n')
        .map((l) => `        $ ${l}`)
        .join('\n')}`,
  ).join('\n\n');
  return `NAME
    virtables — explain, diff, audit and compile the firewall rules of libvirt and Xen
    virtual-machine networks

SYNOPSIS
    virtables [--quiet] COMMAND [options] [FILE…]
    virtables help [COMMAND]
    virtables --version

DESCRIPTION
    virtables reads iptables-save dumps and libvirt/Xen network definitions, derives the rules
    each virtual network should have, and explains, diffs, audits and traces them. It only
    reads: it never changes a firewall. Every command takes --help; commands read standard
    input for '-', report --format json for programs, and name FILE:LINE:COL in errors.

COMMANDS
${commandList('    ')}

GLOBAL OPTIONS
    -q, --quiet     no progress lines and no notes on stderr (results and errors still print);
                    accepted before or after COMMAND
    -h, --help      this page (COMMAND --help, or virtables help COMMAND, for a command's options)
    -V, --version   the version

EXIT STATUS
    0   done, nothing found
    1   findings at or above --fail-on (audit, live)
    2   usage error, unreadable or invalid input (FILE:LINE:COL: message), or, for live,
        something that could not be collected (the rest is still audited)

ENVIRONMENT
    NO_COLOR              no colours, even on a terminal (no-color.org)
    LIBVIRT_DEFAULT_URI   the libvirt connection live uses when --connect is not given
    VIRTABLES_DEBUG       print the stack trace of an internal error (and run dist/'s modules,
                          not the bundle, so that its frames name the files)
    VIRTABLES_PROGRESS_DELAY_MS
                          how long work runs before a progress line appears (default 300)

EXAMPLES
${examples}

SEE ALSO
    iptables-save(8), ip6tables-save(8), nft(8), virsh(1); docs/commands/COMMAND.md in the
    package; virtables completion --help
`;
}

/** The command's page in the installed package's docs/commands/, if it has one. */
function commandDoc(name: string): string | null {
  const doc = packagePath('docs', 'commands', `${name}.md`);
  return existsSync(doc) ? doc : null;
}

function commandManual(name: string, command: Command, help: string): string {
  const doc = commandDoc(name);
  return `NAME\n    virtables ${name} — ${command.summary}\n\n${help.trimEnd()}\n\nSEE ALSO\n    virtables --help${doc ? `; ${doc}` : ''}\n`;
}

/** `--quiet`/`-q` anywhere before `--`: taken out of argv, which the command then never sees. */
function takeQuiet(argv: string[]): { argv: string[]; quiet: boolean } {
  const end = argv.indexOf('--');
  const head = end < 0 ? argv : argv.slice(0, end);
  const kept = head.filter((a) => a !== '--quiet' && a !== '-q');
  return { argv: end < 0 ? kept : [...kept, ...argv.slice(end)], quiet: kept.length !== head.length };
}

export async function main(rawArgv: string[], given: Io = processIo()): Promise<number> {
  const { argv, quiet } = takeQuiet(rawArgv);
  const io: Io = quiet ? { ...given, quiet: true } : given;
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stdout(usage());
    return 2;
  }
  if (name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    io.stdout(manual());
    return 0;
  }
  if (name === 'help') {
    const asked = rest[0]!;
    if (!isCommandName(asked) || rest.length > 1) {
      io.stderr(
        `virtables help: ${isCommandName(asked) ? 'give one command' : `unknown command '${asked}'`}\n\n${usage()}`,
      );
      return 2;
    }
    io.stdout(commandManual(asked, COMMANDS[asked], await commandHelp(asked)));
    return 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout(`virtables ${VERSION}\n`);
    return 0;
  }
  if (!isCommandName(name)) {
    const guess = closest(name, Object.keys(COMMANDS));
    io.stderr(`virtables: unknown command '${name}'${guess ? ` (did you mean '${guess}'?)` : ''}\n\n${usage()}`);
    return 2;
  }
  try {
    return await runCommand(name, rest, io);
  } catch (e) {
    if (e instanceof InputError) {
      io.stderr(`${e.message}\n`);
      return 2;
    }
    if (e instanceof UsageError) {
      // Messages usually start with the command ("parse: give one dump"); file errors do not.
      const message =
        e.message.startsWith(`${name}: `) || e.message.startsWith(`${name} `) ? e.message : `${name}: ${e.message}`;
      io.stderr(`virtables ${message}\n(see 'virtables ${name} --help')\n`);
      return 2;
    }
    // Past V8's string or buffer limits: the input is too big for this, which is not a bug.
    if (
      e instanceof RangeError &&
      /Invalid string length|Array buffer allocation failed|Invalid array length/.test(e.message)
    ) {
      io.stderr(
        `virtables ${name}: the input is too big to work on in memory (${e.message}); split it, or give node more (NODE_OPTIONS=--max-old-space-size=MiB)\n`,
      );
      return 2;
    }
    // A bug, not bad input: say so briefly; the stack only on request.
    const err = e as Error;
    io.stderr(
      `virtables ${name}: internal error: ${err.message}\n${io.env.VIRTABLES_DEBUG ? (err.stack ?? '') + '\n' : '(set VIRTABLES_DEBUG=1 for the stack trace)\n'}`,
    );
    return 2;
  }
}
