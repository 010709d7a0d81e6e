// Reading an input whole from disk or standard input, as bytes, with a bound on its size: the one
// byte reader of every command, topology file, lab sheet and test.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError, UsageError } from '../model/errors.js';

/** Reads `-` (standard input) or a file, whole. */
export type ReadBytes = (path: string) => Uint8Array;

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
    // A file comes whole into its first chunk, sized to it (a byte more to see it end: a 1 MiB chunk for
    // each of a thousand network XMLs was a gigabyte of buffers for the collector); what has no size to
    // ask (a pipe, a /proc file) comes in 1 MiB chunks. One byte past the limit is enough to know it is passed.
    const chunk = Buffer.allocUnsafeSlow(Math.min(total === 0 && size > 0 ? size + 1 : CHUNK, limit + 1 - total));
    let filled = 0;
    let n = -1;
    while (filled < chunk.length && (n = readWaiting(fd, chunk, filled)) > 0) filled += n;
    total += filled;
    if (total > limit)
      throw new InputError(
        path,
        1,
        1,
        `${name} is more than ${MiB(limit)}, the most virtables reads (stopped after ${MiB(total)})`,
      );
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
    if (st.isFile() && st.size > limit)
      throw new InputError(path, 1, 1, `${name} is ${MiB(st.size)}, more than virtables reads (${MiB(limit)})`);
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
