// Command-line options: node's parseArgs with virtables' conventions (`-` is a positional,
// unknown flags are usage errors, `--help` everywhere).

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../model/errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed<V> {
  readonly values: V;
  readonly positionals: string[];
}

/** Each command's options as it declared them when last run (shell completion is made from these). */
export const declaredOptions = new Map<string, OptionSpec>();

export function parseCommandArgs<V>(command: string, argv: string[], options: OptionSpec): Parsed<V> {
  const spec: OptionSpec = { help: { type: 'boolean', short: 'h' }, ...options };
  declaredOptions.set(command, spec);
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: spec,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as V, positionals };
  } catch (e) {
    const message = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    const unknown = /^Unknown option '([^']+)'/.exec(message)?.[1];
    const known = Object.entries(spec).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
    const guess = unknown ? closest(unknown.split('=')[0]!, known) : null;
    throw new UsageError(`${command}: ${message}${guess ? ` (did you mean '${guess}'?)` : ''}`);
  }
}

/** Edit distance of two short words (option names): insertions, deletions, substitutions. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
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

export function oneOf<T extends string>(command: string, flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  const guess = closest(value, allowed);
  throw new UsageError(`${command}: ${flag} must be one of ${allowed.join(', ')} (got '${value}'${guess ? `; did you mean '${guess}'?` : ''})`);
}
