// Command-line options: node's parseArgs with virtables' conventions (`-` is a positional,
// unknown flags are usage errors, `--help` everywhere).

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../model/errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed<V> {
  readonly values: V;
  readonly positionals: string[];
}

export function parseCommandArgs<V>(command: string, argv: string[], options: OptionSpec): Parsed<V> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' }, ...options },
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
