// Command-line options, from the command table (spec.ts): node's parseArgs with virtables'
// conventions (`-` is a positional, unknown flags are usage errors, `--help` everywhere), each
// fixed-value option checked against its choices, and each command's --help written from it.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../model/errors.js';
import { SPECS, type Args, type CommandName, type CommandSpec, type OptionDecl } from './spec.js';

type ParseOptions = NonNullable<ParseArgsConfig['options']>;

/** The parser's view of a command's options, with `--help` added. */
function parserOptions(spec: CommandSpec): ParseOptions {
  const out: ParseOptions = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(spec.options)) {
    out[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  return out;
}

/** The value as declared, or a usage error naming the choices. */
function choose(command: string, flag: string, o: OptionDecl, value: string): string {
  const choices = Object.keys(o.choices ?? {});
  const found = choices.find((c) => c === value || (o.ignoreCase === true && c.toLowerCase() === value.toLowerCase()));
  if (found !== undefined) return found;
  const guess = closest(value, choices);
  throw new UsageError(
    `${command}: --${flag} must be one of ${choices.join(', ')} (got '${value}'${guess ? `; did you mean '${guess}'?` : ''})`,
  );
}

/** `virtables NAME argv…` parsed by NAME's declaration; `help` says whether --help was asked. */
export function parseCommand<N extends CommandName>(name: N, argv: string[]): Args<N> & { readonly help: boolean } {
  const spec: CommandSpec = SPECS[name];
  let parsed: { values: Record<string, string | boolean | Array<string | boolean> | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: parserOptions(spec), allowPositionals: true, strict: true });
  } catch (e) {
    const message = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    const unknown = /^Unknown option '([^']+)'/.exec(message)?.[1];
    const known = [
      '--help',
      '-h',
      ...Object.entries(spec.options).flatMap(([flag, o]) => [`--${flag}`, ...(o.short ? [`-${o.short}`] : [])]),
    ];
    const guess = unknown ? closest(unknown.split('=')[0]!, known) : null;
    throw new UsageError(`${name}: ${message}${guess ? ` (did you mean '${guess}'?)` : ''}`);
  }
  const help = parsed.values.help === true;
  const values: Record<string, unknown> = {};
  for (const [flag, o] of Object.entries(spec.options)) {
    const v = parsed.values[flag];
    if (v === undefined) continue;
    // Choices are checked only when the command runs: `--help` with a bad value still helps.
    if (o.choices && !help)
      values[flag] = Array.isArray(v)
        ? v.map((x) => choose(name, flag, o, String(x)))
        : choose(name, flag, o, String(v));
    else values[flag] = v;
  }
  return { values: values as Args<N>['values'], positionals: parsed.positionals, help };
}

/** Edit distance of two short words (option names): insertions, deletions, substitutions. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The known word closest to a mistyped one: within two edits (or a third of its length), else null. */
export function closest(word: string, known: readonly string[]): string | null {
  if (word.length > 64) return null;
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(word, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== null && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

// --- --help, written from the declaration ----------------------------------------------------------

/** `-f, --format` and its value (`--fail-on LEVEL`, `--ip-forward on|off`). */
function optionHead(name: string, o: OptionDecl, choice: string | null): string {
  const flag = `${o.short ? `-${o.short}, ` : ''}--${name}`;
  if (o.type === 'boolean') return flag;
  if (choice !== null) return `${flag} ${choice}`;
  return `${flag} ${o.arg ?? Object.keys(o.choices ?? {}).join('|')}`;
}

/** Each line of the option list: [left column, description]. */
function optionRows(spec: CommandSpec): Array<[string, string] | { heading: string }> {
  const rows: Array<[string, string] | { heading: string }> = spec.args.map(
    (a) => [a.name, a.help] as [string, string],
  );
  let group: string | undefined;
  for (const [name, o] of Object.entries(spec.options)) {
    if (o.group !== group) {
      rows.push({ heading: o.group ?? '' });
      group = o.group;
    }
    const perChoice = Object.entries(o.choices ?? {}).filter((c): c is [string, string] => c[1] !== null);
    // `-f,` on the first of an option's lines only: the others line up under its long name.
    for (const [i, [choice, help]] of perChoice.entries())
      rows.push([optionHead(name, i === 0 ? o : { ...o, short: undefined }, choice), help]);
    if (perChoice.length > 0 && o.short)
      for (const r of rows.slice(rows.length - perChoice.length + 1)) if (Array.isArray(r)) r[0] = `    ${r[0]}`;
    if (perChoice.length === 0) rows.push([optionHead(name, o, null), o.help]);
  }
  if (group !== undefined) rows.push({ heading: '' });
  rows.push(['-h, --help', 'this text']);
  return rows;
}

/** A command's --help: usage, what it does, its arguments and options, notes, exit status. */
export async function commandHelp(name: CommandName): Promise<string> {
  const spec: CommandSpec = SPECS[name];
  const rows = optionRows(spec);
  const width = Math.min(24, Math.max(...rows.map((r) => ('heading' in r ? 0 : r[0].length)))) + 2;
  const list = rows.map((r) => {
    if ('heading' in r) return r.heading === '' ? '' : `\n${r.heading}`;
    const [left, help] = r;
    const [first = '', ...more] = help.split('\n');
    const head =
      left.length + 2 > width ? `  ${left}\n${' '.repeat(width + 2)}${first}` : `  ${left.padEnd(width)}${first}`;
    return [head.trimEnd(), ...more.map((l) => `${' '.repeat(width + 2)}${l}`)].join('\n');
  });
  const late = spec.lateChoices ? `${spec.lateChoices.label}: ${(await spec.lateChoices.load()).join(', ')}.\n` : '';
  return `Usage: virtables ${spec.usage}

${spec.about}

${list.join('\n').replace(/\n{3,}/g, '\n\n')}
${spec.notes ? `\n${spec.notes}\n` : ''}
${late}Exit status: ${spec.exit}
`;
}
