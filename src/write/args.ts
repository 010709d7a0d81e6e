// libvirt's test-vector text for commands: virCommandToString with line breaks (vircommand.c),
// byte for byte. Arguments are joined with " \" + newline; an argument stays on the current
// line only if it is not an option and the previous argument is an option or an option still
// follows (so `--source N '!' --destination`); shell metacharacters get single quotes.

import type { Program } from '../engine/program.js';

/** The characters virBufferEscapeShell quotes for. */
const SHELL_META = /[\r\t\n !"#$&'()*;<>?[\\\]^`{|}~]/;

/** virBufferEscapeShell: bare when safe, else in single quotes with ' written '\''. */
export function shellWord(word: string): string {
  if (word !== '' && !SHELL_META.test(word)) return word;
  return `'${word.replace(/'/g, "'\\''")}'`;
}

const isOption = (word: string | undefined): boolean => word !== undefined && word.startsWith('-');

/** One command as libvirt's test suite prints it (no trailing newline). */
export function formatArgs(argv: readonly string[]): string {
  let text = shellWord(argv[0] ?? '');
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i]!;
    const stays = !isOption(word) && (isOption(argv[i - 1]) || argv.slice(i + 1).some(isOption));
    text += stays ? ' ' : ' \\\n';
    text += shellWord(word);
  }
  return text;
}

export interface ArgsOptions {
  /** Include the one-time chain set-up commands (libvirt's base.* prefix). */
  readonly setup?: boolean;
}

/** Every command of the program in libvirt's test-vector format, one after another. */
export function formatProgramArgs(program: Program, options: ArgsOptions = {}): string {
  return program.commands
    .filter((c) => options.setup === true || !c.setup)
    .map((c) => formatArgs(c.argv) + '\n')
    .join('');
}
