// Reading inputs for commands: files or `-` for standard input, as bytes, decoded strictly.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
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

/** The largest input virtables reads (a 100,000-rule dump is ~10 MB); VIRTABLES_MAX_INPUT_BYTES changes it. */
export const MAX_INPUT_BYTES = 512 * 1024 * 1024;

function inputLimit(): number {
  const given = Number(process.env.VIRTABLES_MAX_INPUT_BYTES);
  return Number.isSafeInteger(given) && given > 0 ? given : MAX_INPUT_BYTES;
}

const MiB = (n: number): string => `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MiB`;

/** Reads an open descriptor to its end in chunks, stopping past the limit (standard input has no size to ask). */
function readAll(fd: number, path: string, name: string, limit: number): Uint8Array {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) break;
    total += n;
    if (total > limit) throw new InputError(path, 1, 1, `${name} is more than ${MiB(limit)}, the most virtables reads (stopped after ${MiB(total)})`);
    chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
  }
  return Buffer.concat(chunks, total);
}

/** Reads `-` or a file whole; a file's size is checked before anything is read. */
export function readBytesFromDisk(path: string): Uint8Array {
  const name = path === '-' ? 'standard input' : path;
  let fd: number | null = null;
  try {
    fd = path === '-' ? 0 : openSync(path, 'r');
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    const limit = inputLimit();
    if (st.isFile() && st.size > limit) throw new InputError(path, 1, 1, `${name} is ${MiB(st.size)}, more than virtables reads (${MiB(limit)})`);
    return readAll(fd, path, name, limit);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new UsageError(`${name}: no such file`);
    if (err.code === 'EISDIR') throw new UsageError(`${name}: is a directory (expected a file)`);
    if (err.code === 'EACCES') throw new UsageError(`${name}: permission denied`);
    if (err.code === 'EAGAIN') throw new UsageError(`${name}: standard input is not readable (nothing piped in?)`);
    throw new UsageError(`${name}: ${err.message}`);
  } finally {
    if (fd !== null && fd !== 0) closeSync(fd);
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
