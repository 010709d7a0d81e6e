// virtables completion bash|zsh
// The scripts are made from the command table (spec.ts) the parser and --help are made from too:
// commands, flags, fixed values, and where a flag or argument takes a file or a directory.

import { UsageError } from '../model/errors.js';
import { VERSION } from '../package.js';
import type { Io } from './io.js';
import { COMMAND_NAMES, SPECS, type Args, type CommandSpec, type OptionDecl } from './spec.js';

export interface FlagInfo {
  readonly long: string;
  readonly short: string | null;
  readonly takesValue: boolean;
  readonly multiple: boolean;
  /** Fixed values the help lists for it (empty: free). */
  readonly choices: readonly string[];
  /** What to offer for a free value. */
  readonly value: 'file' | 'directory' | 'none';
  readonly description: string;
}

export interface CommandInfo {
  readonly name: string;
  readonly summary: string;
  readonly flags: readonly FlagInfo[];
  /** Arguments: fixed words, files, or none. */
  readonly positional:
    | { readonly kind: 'choices'; readonly words: readonly string[] }
    | { readonly kind: 'files' }
    | { readonly kind: 'none' };
}

export const GLOBAL_FLAGS: readonly FlagInfo[] = [
  {
    long: 'quiet',
    short: 'q',
    takesValue: false,
    multiple: false,
    choices: [],
    value: 'none',
    description: 'no progress lines and no notes on stderr',
  },
  {
    long: 'help',
    short: 'h',
    takesValue: false,
    multiple: false,
    choices: [],
    value: 'none',
    description: 'the manual page',
  },
  {
    long: 'version',
    short: 'V',
    takesValue: false,
    multiple: false,
    choices: [],
    value: 'none',
    description: 'the version',
  },
];

/** The first line of a description, without a dangling `;` or `,`. */
function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim().replace(/[;,]$/, '');
}

function flagInfo(long: string, o: OptionDecl, late: readonly string[]): FlagInfo {
  const choices = o.choices ? Object.keys(o.choices) : [...late];
  const perChoice = Object.values(o.choices ?? {}).some((h) => h !== null);
  const description = perChoice ? `one of ${choices.join(', ')}` : firstLine(o.help) || long;
  const takesValue = o.type === 'string';
  const value = takesValue && choices.length === 0 ? (o.value ?? 'none') : 'none';
  return { long, short: o.short ?? null, takesValue, multiple: o.multiple === true, choices, value, description };
}

/** What completion knows about each command: the command table's declarations. */
export async function commandInfos(): Promise<CommandInfo[]> {
  const out: CommandInfo[] = [];
  for (const name of COMMAND_NAMES) {
    const spec: CommandSpec = SPECS[name];
    const late = spec.lateChoices ? await spec.lateChoices.load() : [];
    const flags: FlagInfo[] = [
      {
        long: 'help',
        short: 'h',
        takesValue: false,
        multiple: false,
        choices: [],
        value: 'none',
        description: 'this text',
      },
      ...Object.entries(spec.options).map(([long, o]) =>
        flagInfo(long, o, spec.lateChoices?.option === long ? late : []),
      ),
    ];
    out.push({ name, summary: spec.summary, flags, positional: spec.positional });
  }
  return out;
}

const shellWords = (words: readonly string[]): string => words.join(' ');
const flagWords = (f: FlagInfo): string[] => [`--${f.long}`, ...(f.short ? [`-${f.short}`] : [])];

export function bashScript(commands: readonly CommandInfo[], version: string): string {
  const names = commands.map((c) => c.name);
  const cases = commands.map((c) => {
    const valued = c.flags.filter((f) => f.takesValue);
    const valueCases = valued.map((f) => {
      const action =
        f.choices.length > 0
          ? `COMPREPLY=($(compgen -W "${shellWords(f.choices)}" -- "$cur"))`
          : f.value === 'directory'
            ? '_virtables_files -d'
            : f.value === 'file'
              ? '_virtables_files -f'
              : 'COMPREPLY=()';
      return `        ${flagWords(f).join('|')}) ${action}; return ;;`;
    });
    const allFlags = [...c.flags.flatMap(flagWords), '--quiet', '-q'];
    const positional =
      c.positional.kind === 'choices'
        ? `COMPREPLY=($(compgen -W "${shellWords(c.positional.words)}" -- "$cur"))`
        : c.positional.kind === 'files'
          ? '_virtables_files -f'
          : 'COMPREPLY=()';
    return [
      `    ${c.name})`,
      ...(valueCases.length > 0 ? ['      case "$prev" in', ...valueCases, '      esac'] : []),
      `      if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "${shellWords(allFlags)}" -- "$cur")); return; fi`,
      `      ${positional} ;;`,
    ].join('\n');
  });
  return `# bash completion for virtables ${version}, made by \`virtables completion bash\`.
# Use: source <(virtables completion bash), or save it in /etc/bash_completion.d/virtables.

_virtables_files() { # $1: -f (files and directories) or -d (directories)
  local IFS=$'\\n'
  compopt -o filenames 2>/dev/null
  COMPREPLY=($(compgen "$1" -- "$cur"))
}

_virtables() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" cmd="" i
  # --flag=value: bash splits at '=', so the flag is the word before it.
  if [[ "$cur" == "=" ]]; then prev="\${COMP_WORDS[COMP_CWORD-1]}"; cur=""
  elif [[ "$prev" == "=" ]]; then prev="\${COMP_WORDS[COMP_CWORD-2]}"; fi
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$cmd" in
    "")
      if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "${shellWords(GLOBAL_FLAGS.flatMap(flagWords))}" -- "$cur")); return; fi
      COMPREPLY=($(compgen -W "${shellWords([...names, 'help'])}" -- "$cur")) ;;
    help)
      COMPREPLY=($(compgen -W "${shellWords(names)}" -- "$cur")) ;;
${cases.join('\n')}
  esac
}

complete -F _virtables virtables
`;
}

/** Text for a zsh single-quoted word, with what _arguments treats specially ([ ] :) removed. */
function zshText(text: string): string {
  return text
    .replace(/[[\]:]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/'/g, "'\\''");
}

function zshFlagSpecs(f: FlagInfo): string[] {
  const words = flagWords(f);
  const exclusive = f.multiple ? '*' : words.length > 1 ? `(${words.join(' ')})` : '';
  const value = !f.takesValue
    ? ''
    : f.choices.length > 0
      ? `:${f.long}:(${f.choices.join(' ')})`
      : f.value === 'directory'
        ? `:${f.long}:_files -/`
        : f.value === 'file'
          ? `:${f.long}:_files`
          : `:${f.long}: `;
  const desc = `[${zshText(f.description)}]`;
  if (words.length === 1 || f.multiple) return words.map((w) => `'${exclusive}${w}${desc}${value}'`);
  return [`'${exclusive}'{${words.join(',')}}'${desc}${value}'`];
}

export function zshScript(commands: readonly CommandInfo[], version: string): string {
  const described = commands.map((c) => `      '${c.name}:${zshText(c.summary)}'`);
  const cases = commands.map((c) => {
    const positional =
      c.positional.kind === 'choices'
        ? `'1:${c.name}:(${c.positional.words.join(' ')})'`
        : c.positional.kind === 'files'
          ? "'*:file:_files'"
          : null;
    const specs = [
      ...c.flags.flatMap(zshFlagSpecs),
      ...zshFlagSpecs(GLOBAL_FLAGS[0]!),
      ...(positional ? [positional] : []),
    ];
    return `        ${c.name})\n          _arguments -s -S \\\n            ${specs.join(' \\\n            ')} ;;`;
  });
  return `#compdef virtables
# zsh completion for virtables ${version}, made by \`virtables completion zsh\`.
# Use: source <(virtables completion zsh) after compinit, or save it as _virtables in $fpath.

_virtables_commands() {
  local -a commands
  commands=(
${described.join('\n')}
      'help:a command'\\''s manual page'
  )
  _describe -t commands 'virtables command' commands
}

_virtables() {
  local curcontext="$curcontext" state line
  typeset -A opt_args
  _arguments -C \\
    ${GLOBAL_FLAGS.flatMap(zshFlagSpecs).join(' \\\n    ')} \\
    '1: :_virtables_commands' \\
    '*:: :->args' && return
  case $state in
    args)
      curcontext="\${curcontext%:*:*}:virtables-$line[1]:"
      case $line[1] in
        help)
          _arguments '1: :_virtables_commands' ;;
${cases.join('\n')}
      esac ;;
  esac
}

if [[ "\${funcstack[1]}" == _virtables ]]; then
  _virtables "$@"
else
  compdef _virtables virtables
fi
`;
}

export async function run({ positionals }: Args<'completion'>, io: Io): Promise<number> {
  const shell = positionals[0];
  if (positionals.length !== 1 || (shell !== 'bash' && shell !== 'zsh'))
    throw new UsageError(`completion: give the shell: bash or zsh${shell ? ` (got '${positionals.join(' ')}')` : ''}`);
  const commands = await commandInfos();
  io.stdout(shell === 'bash' ? bashScript(commands, VERSION) : zshScript(commands, VERSION));
  return 0;
}
