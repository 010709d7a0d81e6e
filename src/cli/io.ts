// Reading inputs for commands: files or `-` for standard input, as bytes, decoded strictly.

import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
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

/**
 * The largest input virtables reads. A 110,000-rule dump is ~11 MB; past ~128 MiB a dump would not
 * fit node's heap once parsed, and standard input, which has no size to ask, is held in memory
 * while it is read: the bound keeps that memory bounded too. VIRTABLES_MAX_INPUT_BYTES changes it.
 */
export const MAX_INPUT_BYTES = 128 * 1024 * 1024;

function inputLimit(): number {
  const given = Number(process.env.VIRTABLES_MAX_INPUT_BYTES);
  return Number.isSafeInteger(given) && given > 0 ? given : MAX_INPUT_BYTES;
}

const MiB = (n: number): string => `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MiB`;

const CHUNK = 1024 * 1024;

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * One read into chunk from offset. A non-blocking standard input (a parent's pipe: node's
 * spawnSync gives one) that has nothing yet answers EAGAIN, which means "not yet", not
 * "nothing piped": wait a little and ask again.
 */
function readWaiting(fd: number, chunk: Buffer, offset: number): number {
  for (;;) {
    try {
      return readSync(fd, chunk, offset, chunk.length - offset, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
}

/**
 * Reads an open descriptor to its end, stopping past the limit (standard input has no size to
 * ask). Each 1 MiB chunk is filled before the next is taken (a pipe gives 64 KiB a read), so
 * what is held is what was read, never more than the limit and one byte.
 */
function readAll(fd: number, path: string, name: string, limit: number, size: number): Uint8Array {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    // A file comes whole into its first chunk (a byte more to see it end); one byte past the limit
    // is enough to know it is passed.
    const chunk = Buffer.allocUnsafeSlow(Math.min(total === 0 ? Math.max(CHUNK, size + 1) : CHUNK, limit + 1 - total));
    let filled = 0;
    let n = -1;
    while (filled < chunk.length && (n = readWaiting(fd, chunk, filled)) > 0) filled += n;
    total += filled;
    if (total > limit) throw new InputError(path, 1, 1, `${name} is more than ${MiB(limit)}, the most virtables reads (stopped after ${MiB(total)})`);
    if (filled > 0) chunks.push(filled === chunk.length ? chunk : chunk.subarray(0, filled));
    if (n === 0) break;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
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
    return readAll(fd, path, name, limit, st.isFile() ? st.size : 0);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new UsageError(`${name}: no such file`);
    if (err.code === 'EISDIR') throw new UsageError(`${name}: is a directory (expected a file)`);
    if (err.code === 'EACCES') throw new UsageError(`${name}: permission denied`);
    throw new UsageError(`${name}: ${err.message}`);
  } finally {
    if (fd !== null && fd !== 0) closeSync(fd);
  }
}

/**
 * Standard output written straight to its descriptor when it is a file or a pipe:
 * process.stdout.write keeps a copy of every chunk written to a pipe until the event loop
 * turns, which a command printing 11 MB in one go never lets it do (20 MiB more at the peak).
 */
function stdoutWriter(): (text: string) => void {
  if (process.stdout.isTTY) return (t) => void process.stdout.write(t);
  return (t) => {
    const bytes = Buffer.from(t, 'utf8');
    let offset = 0;
    while (offset < bytes.length) {
      try {
        offset += writeSync(1, bytes, offset);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // A non-blocking pipe that is full: wait for the reader. A reader that stopped (`| head`) is not an error.
        if (code === 'EAGAIN') Atomics.wait(pause, 0, 0, 5);
        else if (code === 'EPIPE') process.exit(process.exitCode ?? 0);
        else throw e;
      }
    }
  };
}

export function processIo(): Io {
  return {
    stdout: stdoutWriter(),
    stderr: (t) => process.stderr.write(t),
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    stdinIsTTY: process.stdin.isTTY === true,
    env: process.env,
    readBytes: readBytesFromDisk,
  };
}
