// virtables completion bash|zsh
// The scripts are made from the command registry and from each command itself: its options as
// it declares them to the parser (args.ts records them when the command runs `--help`) and the
// values its help lists (`--format table|text|json`), so they cannot drift from the commands.

import { UsageError } from '../model/errors.js';
import { VERSION } from '../package.js';
import { declaredOptions, parseCommandArgs } from './args.js';
import type { Io } from './io.js';

export const help = `Usage: virtables completion bash|zsh

Prints a shell completion script for virtables: commands, each command's flags, the values
of --format and the other flags whose values are a fixed list, and files or directories
where a flag or argument takes one.

  bash          for bash 4+:   source <(virtables completion bash)
                or install:    virtables completion bash > /etc/bash_completion.d/virtables
  zsh           for zsh:       source <(virtables completion zsh)   (after compinit)
                or install:    virtables completion zsh > "\${fpath[1]}/_virtables"
  -h, --help    this text

Exit status: 0 printed, 2 usage.
`;

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
  readonly positional: { readonly kind: 'choices'; readonly words: readonly string[] } | { readonly kind: 'files' } | { readonly kind: 'none' };
}

export const GLOBAL_FLAGS: readonly FlagInfo[] = [
  { long: 'quiet', short: 'q', takesValue: false, multiple: false, choices: [], value: 'none', description: 'no progress lines and no notes on stderr' },
  { long: 'help', short: 'h', takesValue: false, multiple: false, choices: [], value: 'none', description: 'the manual page' },
  { long: 'version', short: 'V', takesValue: false, multiple: false, choices: [], value: 'none', description: 'the version' },
];

const SILENT: Io = { stdout: () => {}, stderr: () => {}, stdoutIsTTY: false, stderrIsTTY: false, env: {}, quiet: true, readBytes: () => new Uint8Array(0) };

/** The usage line(s): from `Usage:` to the first blank line. */
function usageOf(helpText: string): string {
  const start = helpText.indexOf('Usage:');
  const text = start < 0 ? '' : helpText.slice(start);
  const end = text.indexOf('\n\n');
  return end < 0 ? text : text.slice(0, end);
}

/** Fixed values per flag: `--flag a|b|c` in the usage, and `  --flag value   description` option lines. */
export function choicesFromHelp(helpText: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (flag: string, values: string[]) => {
    const list = out.get(flag) ?? [];
    for (const v of values) if (!list.includes(v)) list.push(v);
    out.set(flag, list);
  };
  for (const m of usageOf(helpText).matchAll(/--([a-z][a-z-]*)[ =]([a-z0-9][a-z0-9.-]*(?:\|[a-z0-9][a-z0-9.-]*)+)/g)) add(m[1]!, m[2]!.split('|'));
  for (const m of helpText.matchAll(/^\s+(?:-\w, )?--([a-z][a-z-]*) ([a-z0-9][a-z0-9.|-]*)(?: {2,}|$)/gm)) add(m[1]!, m[2]!.split('|'));
  return out;
}

interface OptionLine {
  /** The first description line, without a dangling `;` or `,`. */
  readonly description: string;
  /** The value's placeholder (`DIR`, `NET`) or listed value (`json`), if any. */
  readonly value: string | null;
  /** How many option lines the flag has (one per value for `--format`). */
  readonly lines: number;
}

/** The help's option list: `  -f, --flag VALUE   description`. */
function optionLines(helpText: string): Map<string, OptionLine> {
  const out = new Map<string, OptionLine>();
  for (const m of helpText.matchAll(/^\s+(?:-\w, )?--([a-z][a-z-]*)(?: (\S+))?(?: {2,}(\S.*))?$/gm)) {
    const seen = out.get(m[1]!);
    out.set(m[1]!, seen ? { ...seen, lines: seen.lines + 1 } : { description: (m[3] ?? '').trim().replace(/[;,]$/, ''), value: m[2] ?? null, lines: 1 });
  }
  return out;
}

/** Placeholders that name a file or a directory; any other free value is left to the user. */
function valueKind(placeholder: string | null | undefined): FlagInfo['value'] {
  if (placeholder && /^(DIR|DIRECTORY)$/.test(placeholder)) return 'directory';
  if (placeholder && /^(FILE|DUMP|NET|PATH|XML)…?$/.test(placeholder)) return 'file';
  return 'none';
}

function positionalOf(helpText: string): CommandInfo['positional'] {
  const usage = usageOf(helpText)
    .replace(/^Usage:\s*virtables\s+\S+/, '')
    .replace(/\[-[^\]]*\]/g, ' ')
    .replace(/\[options\]/g, ' ')
    .replace(/--?[a-zA-Z][\w-]*(?:[ =](?:[A-Z][\w.…,]*|[a-z0-9.]+(?:\|[a-z0-9.]+)+))?/g, ' ');
  const words = usage.split(/\s+/).filter((w) => w !== '' && w !== '…' && w !== '|');
  if (words.length === 0) return { kind: 'none' };
  if (words.length === 1 && /^[a-z0-9]+(\|[a-z0-9]+)+$/.test(words[0]!)) return { kind: 'choices', words: words[0]!.split('|') };
  return { kind: 'files' };
}

/** What completion knows about each registered command, asked of the commands themselves. */
export async function commandInfos(): Promise<CommandInfo[]> {
  const { COMMANDS } = await import('./main.js');
  const out: CommandInfo[] = [];
  for (const [name, command] of Object.entries(COMMANDS)) {
    const mod = await command.load();
    declaredOptions.delete(name);
    await mod.run(['--help'], SILENT);
    const spec = declaredOptions.get(name);
    if (!spec) throw new Error(`completion: command '${name}' did not declare its options through parseCommandArgs`);
    const choices = choicesFromHelp(mod.help);
    const lines = optionLines(mod.help);
    const flags: FlagInfo[] = Object.entries(spec).map(([long, o]) => {
      const takesValue = o.type === 'string';
      const listed = takesValue ? (choices.get(long) ?? []) : [];
      const line = lines.get(long);
      const description = listed.length > 1 && (line?.lines ?? 0) > 1 ? `one of ${listed.join(', ')}` : line?.description || (long === 'help' ? 'this text' : long);
      return { long, short: o.short ?? null, takesValue, multiple: o.multiple === true, choices: listed, value: takesValue && listed.length === 0 ? valueKind(line?.value) : 'none', description };
    });
    out.push({ name, summary: command.summary, flags, positional: positionalOf(mod.help) });
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
      const action = f.choices.length > 0 ? `COMPREPLY=($(compgen -W "${shellWords(f.choices)}" -- "$cur"))` : f.value === 'directory' ? '_virtables_files -d' : f.value === 'file' ? '_virtables_files -f' : 'COMPREPLY=()';
      return `        ${flagWords(f).join('|')}) ${action}; return ;;`;
    });
    const allFlags = [...c.flags.flatMap(flagWords), '--quiet', '-q'];
    const positional = c.positional.kind === 'choices' ? `COMPREPLY=($(compgen -W "${shellWords(c.positional.words)}" -- "$cur"))` : c.positional.kind === 'files' ? '_virtables_files -f' : 'COMPREPLY=()';
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
  return text.replace(/[[\]:]/g, ' ').replace(/\s+/g, ' ').trim().replace(/'/g, "'\\''");
}

function zshFlagSpecs(f: FlagInfo): string[] {
  const words = flagWords(f);
  const exclusive = f.multiple ? '*' : words.length > 1 ? `(${words.join(' ')})` : '';
  const value = !f.takesValue ? '' : f.choices.length > 0 ? `:${f.long}:(${f.choices.join(' ')})` : f.value === 'directory' ? `:${f.long}:_files -/` : f.value === 'file' ? `:${f.long}:_files` : `:${f.long}: `;
  const desc = `[${zshText(f.description)}]`;
  if (words.length === 1 || f.multiple) return words.map((w) => `'${exclusive}${w}${desc}${value}'`);
  return [`'${exclusive}'{${words.join(',')}}'${desc}${value}'`];
}

export function zshScript(commands: readonly CommandInfo[], version: string): string {
  const described = commands.map((c) => `      '${c.name}:${zshText(c.summary)}'`);
  const cases = commands.map((c) => {
    const positional = c.positional.kind === 'choices' ? `'1:${c.name}:(${c.positional.words.join(' ')})'` : c.positional.kind === 'files' ? "'*:file:_files'" : null;
    const specs = [...c.flags.flatMap(zshFlagSpecs), ...zshFlagSpecs(GLOBAL_FLAGS[0]!), ...(positional ? [positional] : [])];
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

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs<{ help?: boolean }>('completion', argv, {});
  if (values.help) {
    io.stdout(help);
    return 0;
  }
  const shell = positionals[0];
  if (positionals.length !== 1 || (shell !== 'bash' && shell !== 'zsh')) throw new UsageError(`completion: give the shell: bash or zsh${shell ? ` (got '${positionals.join(' ')}')` : ''}`);
  const commands = await commandInfos();
  io.stdout(shell === 'bash' ? bashScript(commands, VERSION) : zshScript(commands, VERSION));
  return 0;
}
