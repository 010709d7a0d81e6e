// Reading inputs for commands: files or `-` for standard input, as bytes, decoded strictly.

import { readFileSync } from 'node:fs';
import { InputError, UsageError } from '../model/errors.js';

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** Standard input is a terminal: a command that reads it by default says so rather than wait silently. */
  readonly stdinIsTTY?: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `virtables --quiet`: no progress lines, no notes (errors and results still print). */
  readonly quiet?: boolean;
  /** Reads `-` (standard input) or a file, whole. */
  readonly readBytes: (path: string) => Uint8Array;
}

/** A command given no file reads standard input: on a terminal, say so (nothing may seem to happen otherwise). */
export function noteStdin(io: Io, command: string, what: string): void {
  if (io.stdinIsTTY && !io.quiet) io.stderr(`virtables ${command}: reading ${what} from standard input (end with Ctrl-D; or give a file, see 'virtables ${command} --help')\n`);
}

/** The largest input virtables reads (a 100,000-rule dump is ~10 MB). */
export const MAX_INPUT_BYTES = 512 * 1024 * 1024;

export function readBytesFromDisk(path: string): Uint8Array {
  try {
    const bytes = readFileSync(path === '-' ? 0 : path);
    if (bytes.length > MAX_INPUT_BYTES) throw new InputError(path, 1, 1, `input is ${bytes.length} bytes; more than virtables reads (${MAX_INPUT_BYTES})`);
    return bytes;
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    const name = path === '-' ? 'standard input' : path;
    if (err.code === 'ENOENT') throw new UsageError(`${name}: no such file`);
    if (err.code === 'EISDIR') throw new UsageError(`${name}: is a directory (expected a file)`);
    if (err.code === 'EACCES') throw new UsageError(`${name}: permission denied`);
    if (err.code === 'EAGAIN') throw new UsageError(`${name}: standard input is not readable (nothing piped in?)`);
    throw new UsageError(`${name}: ${err.message}`);
  }
}

export function processIo(): Io {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    stdinIsTTY: process.stdin.isTTY === true,
    env: process.env,
    readBytes: readBytesFromDisk,
  };
}
