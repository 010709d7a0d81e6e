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
    throw new UsageError(`${command}: ${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')}`);
  }
}

export function oneOf<T extends string>(command: string, flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${command}: ${flag} must be one of ${allowed.join(', ')} (got '${value}')`);
}
