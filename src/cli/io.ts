// Reading inputs for commands: files or `-` for standard input, as bytes, decoded strictly.

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
  if (io.stdinIsTTY && !io.quiet) io.stderr(`virtables ${command}: reading ${what} from standard input (end with Ctrl-D; or give a file, see 'virtables ${command} --help')\n`);
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
