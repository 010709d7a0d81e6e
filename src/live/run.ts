// The one place live mode executes anything. `execute` refuses every argv that is not on the
// read-only list (commands.ts) before a runner sees it; the default runner hands the argv to
// the program directly (zx with a spawn that never starts a shell), so a network named
// `x; rm -rf /` reaches virsh as one argument and nothing else.

import { spawn, type SpawnOptions } from 'node:child_process';
import { isReadOnlyCommand } from './commands.js';

export type CommandResult =
  | { readonly kind: 'ran'; readonly code: number; readonly stdout: Uint8Array; readonly stderr: string }
  | { readonly kind: 'not-found' };

/** Runs one argv; tests replace it to see what would run. */
export type Runner = (argv: readonly string[]) => Promise<CommandResult>;

export class RefusedCommand extends Error {
  constructor(readonly argv: readonly string[]) {
    super(`live: refusing to run ${JSON.stringify(argv)}: not on the read-only list`);
    this.name = 'RefusedCommand';
  }
}

export async function execute(argv: readonly string[], runner: Runner = zxRunner()): Promise<CommandResult> {
  if (!isReadOnlyCommand(argv)) throw new RefusedCommand(argv);
  return runner(argv);
}

/** sbin directories are searched too: iptables-save lives there and is missing from many users' PATH. */
function searchPath(path: string | undefined): string {
  const dirs = (path ?? '/usr/local/bin:/usr/bin:/bin').split(':').filter((d) => d !== '');
  for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!dirs.includes(d)) dirs.push(d);
  return dirs.join(':');
}

export interface ZxRunnerOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly timeoutSeconds?: number;
  /** The directory the commands run in (default: the current one). */
  readonly cwd?: string;
  /** What actually starts the process (tests wrap it to watch what zx asks for). */
  readonly spawn?: typeof spawn;
}

/**
 * The real runner: zx for the process handling (capture, timeout, exit status), with its spawn
 * replaced by one that runs argv[0] with argv[1…] and `shell: false`. zx's own command string
 * (quoted for bash) is used for nothing but its log.
 */
export function zxRunner(options: ZxRunnerOptions = {}): Runner {
  const start = options.spawn ?? spawn;
  // The URI is passed explicitly (checked by uri.ts), so the variables that would pick another go;
  // LIBVIRT_AUTOSTART=0: a qemu:///session URI must not start a session daemon.
  const { LIBVIRT_DEFAULT_URI: _uri, VIRSH_DEFAULT_CONNECT_URI: _virshUri, ...given } = options.env ?? process.env;
  const env = { ...given, PATH: searchPath(given.PATH), LC_ALL: 'C', LIBVIRT_AUTOSTART: '0' };
  return async (argv) => {
    const { $, which } = await import('zx');
    const [program, ...args] = argv;
    // Found here, not by the kernel's PATH walk, which gives up at the first directory it may not enter.
    const file = await which(program!, { path: env.PATH, nothrow: true });
    if (file === null) return { kind: 'not-found' };
    const direct = ((_command: string, _args: readonly string[], spawnOptions: SpawnOptions) =>
      start(file, args, {
        ...spawnOptions,
        ...(options.cwd ? { cwd: options.cwd } : {}),
        shell: false,
      })) as typeof spawn;
    const out = await $({
      spawn: direct,
      env,
      nothrow: true,
      quiet: true,
      verbose: false,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: `${options.timeoutSeconds ?? 60}s`,
    })`${argv}`;
    const cause = (out.cause as NodeJS.ErrnoException | null) ?? null;
    if (cause?.code === 'ENOENT') return { kind: 'not-found' };
    if (cause?.code === 'EACCES')
      return { kind: 'ran', code: 126, stdout: new Uint8Array(0), stderr: `${file}: permission denied` };
    if (out.signal !== null)
      return {
        kind: 'ran',
        code: 128,
        stdout: new Uint8Array(0),
        stderr: `${out.stderr}ended by ${out.signal} (after ${options.timeoutSeconds ?? 60} s?)`,
      };
    if (cause && (out.exitCode === null || out.exitCode < 0)) throw cause;
    return { kind: 'ran', code: out.exitCode ?? 1, stdout: new Uint8Array(out.buffer()), stderr: out.stderr };
  };
}
