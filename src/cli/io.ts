// Reading inputs for commands: files or `-` for standard input, as bytes, decoded strictly.

import { fstatSync, writeSync } from 'node:fs';
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
 * One of the process's streams, opened on first use with what a reader that stops early
 * (`virtables explain | head`) needs: that is not an error. Only then: process.stdout and
 * process.stderr each open a stream, and on a pipe load the net and stream modules, which a
 * command that writes its output to the descriptor never uses.
 */
function stdStream(fd: 1 | 2): NodeJS.WriteStream {
  const stream = fd === 1 ? process.stdout : process.stderr;
  if (stream.listenerCount('error') === 0)
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  return stream;
}

/**
 * Standard output written straight to its descriptor when it is a file or a pipe:
 * process.stdout.write keeps a copy of every chunk written to a pipe until the event loop
 * turns, which a command printing 11 MB in one go never lets it do (20 MiB more at the peak).
 */
function stdoutWriter(tty: boolean): (text: string) => void {
  if (tty) return (t) => void stdStream(1).write(t);
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

/**
 * Is the descriptor a terminal? Only a character device can be one, and asking fstat first keeps a
 * pipe or a file from loading node:tty (which loads net and the stream modules: scripts/bundle.mjs
 * binds it lazily); /dev/null is a character device too, so one is then asked properly.
 */
function terminal(fd: 0 | 1 | 2): boolean {
  let device: boolean;
  try {
    device = fstatSync(fd).isCharacterDevice();
  } catch {
    return false; // closed
  }
  return device && isatty(fd);
}

/** The terminal's width, when standard output is one. */
export function stdoutColumns(): number | undefined {
  return terminal(1) ? stdStream(1).columns : undefined;
}

export function processIo(): Io {
  // Each asked of its descriptor: process.stdin, stdout and stderr would each open a stream on it.
  const stdoutIsTTY = terminal(1);
  return {
    stdout: stdoutWriter(stdoutIsTTY),
    stderr: (t) => void stdStream(2).write(t),
    stdoutIsTTY,
    stderrIsTTY: terminal(2),
    // Asked when a command reads standard input by default (it is /dev/null, a character device, under CI).
    get stdinIsTTY() {
      return terminal(0);
    },
    env: process.env,
    readBytes: readBytesFromDisk,
  };
}
