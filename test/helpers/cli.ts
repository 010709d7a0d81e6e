// Running the virtables CLI in-process, as a user would from a shell: argv in, exit status
// and the two output streams out (files are read from disk; '-' from the given bytes).

import { main } from '../../src/cli/main.js';
import { readBytesFromDisk } from '../../src/input/disk.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(argv: string[], stdin: string | null = null): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    stdoutIsTTY: false,
    stderrIsTTY: false,
    env: {},
    readBytes: (path) => (path === '-' ? new TextEncoder().encode(stdin ?? '') : readBytesFromDisk(path)),
  });
  return { code, stdout, stderr };
}
