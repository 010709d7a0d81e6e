// The command table with its loaders: each command's module is imported only when that command
// runs (a pre-commit hook's `virtables audit` pays for nothing else), its options come from spec.ts.

import { commandHelp, parseCommand } from './args.js';
import type { Io } from './io.js';
import { COMMAND_NAMES, SPECS, type Args, type CommandName, type CommandSpec } from './spec.js';

/** What a command module exports: its run over the parsed arguments. */
export interface CommandModule<N extends CommandName> {
  readonly run: (args: Args<N>, io: Io) => Promise<number>;
}

type Loaders = { readonly [N in CommandName]: () => Promise<CommandModule<N>> };

const LOADERS: Loaders = {
  demo: () => import('./demo.js'),
  parse: () => import('./parse.js'),
  explain: () => import('./explain.js'),
  diff: () => import('./diff.js'),
  compile: () => import('./compile.js'),
  audit: () => import('./audit.js'),
  check: () => import('./check.js'),
  lab: () => import('./lab.js'),
  net: () => import('./net.js'),
  trace: () => import('./trace.js'),
  diagram: () => import('./diagram.js'),
  live: () => import('./live.js'),
  completion: () => import('./completion.js'),
};

export interface Command<N extends CommandName = CommandName> extends CommandSpec {
  readonly name: N;
  readonly load: () => Promise<CommandModule<N>>;
}

/** Every command by name, in the order the manual lists them. */
export const COMMANDS: Readonly<Record<CommandName, Command>> = Object.fromEntries(
  COMMAND_NAMES.map((name) => [name, { ...(SPECS[name] as CommandSpec), name, load: LOADERS[name] }]),
) as Record<CommandName, Command>;

/** Parses argv by NAME's declaration, then runs NAME (or prints its --help). */
export async function runCommand<N extends CommandName>(name: N, argv: string[], io: Io): Promise<number> {
  const args = parseCommand(name, argv);
  if (args.help) {
    io.stdout(await commandHelp(name));
    return 0;
  }
  const load: () => Promise<CommandModule<N>> = LOADERS[name];
  return (await load()).run(args, io);
}
