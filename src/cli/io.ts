// Reading inputs for commands: files or `-` for standard input, as bytes, decoded strictly.

import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { readBytesFromDisk, type ReadBytes } from '../input/disk.js';

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
  readonly readBytes: ReadBytes;
}

/** A command given no file reads standard input: on a terminal, say so (nothing may seem to happen otherwise). */
export function noteStdin(io: Io, command: string, what: string): void {
  if (io.stdinIsTTY && !io.quiet)
    io.stderr(
      `virtables ${command}: reading ${what} from standard input (end with Ctrl-D; or give a file, see 'virtables ${command} --help')\n`,
    );
}

/** A pause to wait in while a non-blocking pipe is full. */
const pause = new Int32Array(new SharedArrayBuffer(4));

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
    // Asked of the descriptor: process.stdin would open a stream on it (and load fs/promises) unread.
    stdinIsTTY: isatty(0),
    env: process.env,
    readBytes: readBytesFromDisk,
  };
}
