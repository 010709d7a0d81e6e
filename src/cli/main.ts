// The command dispatcher. Commands are loaded lazily so `virtables audit` in a pre-commit hook
// only pays for what it uses. Only this layer prints and chooses exit codes.

import { InputError, UsageError } from '../model/errors.js';
import { processIo, type Io } from './io.js';

interface Command {
  readonly summary: string;
  readonly load: () => Promise<{ run: (argv: string[], io: Io) => Promise<number>; help: string }>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  demo: { summary: 'run virtables on the bundled seed-lab host (what npm start does)', load: () => import('./demo.js') },
  parse: { summary: 'read an iptables-save dump and print it canonically (save or json)', load: () => import('./parse.js') },
  explain: { summary: 'annotate every rule of a dump: its network, its job and why it is there', load: () => import('./explain.js') },
  diff: { summary: 'what changed between two dumps, attributed to networks and explained', load: () => import('./diff.js') },
  compile: { summary: 'derive the rules libvirt or Xen installs for networks (save, args, shell, nft, json)', load: () => import('./compile.js') },
  audit: { summary: 'find leaks and gaps: missing, shadowed and stale rules, reachable guests, DNS leaks, conflicts (text, json, sarif)', load: () => import('./audit.js') },
  check: { summary: 'check an expectations file (reachability, rule sets) against a dump: pass/fail with the trace', load: () => import('./check.js') },
  lab: { summary: 'list a lab\'s tasks, or grade an answer directory against the lab\'s sheets', load: () => import('./lab.js') },
  net: { summary: 'say what each libvirt/Xen virtual network is: mode, bridge, subnets, DHCP, DNS', load: () => import('./net.js') },
  trace: { summary: 'walk a packet (or every pair: --matrix) through the dump as the kernel would', load: () => import('./trace.js') },
};

export const VERSION = '0.1.0';

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: virtables COMMAND [options]   (virtables COMMAND --help for details)

virtables reads iptables-save dumps and libvirt/Xen network definitions, derives the rules
each virtual network should have, and explains, diffs, audits and traces them.
It only reads: it never changes a firewall.

Commands:
${lines.join('\n')}

Exit status: 0 clean, 1 findings, 2 usage or input error.
`;
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    if (name === 'help' && rest[0] && COMMANDS[rest[0]]) return main([rest[0], '--help'], io);
    io.stdout(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout(`virtables ${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`virtables: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    const mod = await command.load();
    return await mod.run(rest, io);
  } catch (e) {
    if (e instanceof InputError) {
      io.stderr(`${e.message}\n`);
      return 2;
    }
    if (e instanceof UsageError) {
      io.stderr(`virtables ${e.message}\n(see 'virtables ${name} --help')\n`);
      return 2;
    }
    // A bug, not bad input: say so briefly; the stack only on request.
    const err = e as Error;
    io.stderr(`virtables ${name}: internal error: ${err.message}\n${io.env.VIRTABLES_DEBUG ? (err.stack ?? '') + '\n' : '(set VIRTABLES_DEBUG=1 for the stack trace)\n'}`);
    return 2;
  }
}
