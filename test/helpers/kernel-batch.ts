// Asks the kernel about many one-rule cases: all in one private network namespace (held by a
// `sleep` under `unshare -n`, entered with nsenter), so the cost is one iptables-restore per
// refused case, not one namespace per case. First each case is committed as its own table
// (`*t … COMMIT` blocks in one file): a refusal names its line, that case is answered, the
// rest is retried. Then the accepted cases go in again, many per table, and iptables-save
// prints them back, rule by rule in chain order.

import { spawn, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import type { Family } from '../../src/model/dump.js';
import { BUILTIN_CHAINS } from '../../src/model/dump.js';

export interface KernelCase {
  readonly family: Family;
  readonly table: string;
  readonly chain: string;
  readonly rule: string;
  /** Rules the case needs before it in the same table (an estimator for -m rateest), printed too. */
  readonly before?: readonly string[];
  /** Uses an object both families share (an IDLETIMER label): asked after the rest, one family at a time. */
  readonly serial?: boolean;
}

export type KernelAnswer =
  { readonly ok: true; readonly printed: string } | { readonly ok: false; readonly error: string };

/** What every case may refer to, made in the namespace first: an ipset and an accounting object named vt. */
const SETUP: ReadonlyArray<readonly string[]> = [
  ['ipset', 'create', 'vt', 'list:set'],
  ['nfacct', 'add', 'vt'],
];

/** A network namespace of our own for the duration of `body`. */
export async function inNamespace<T>(body: (run: Runner) => Promise<T>): Promise<T> {
  const holder: ChildProcess = spawn('unshare', ['-n', 'sleep', '3600'], { stdio: 'ignore' });
  try {
    const pid = holder.pid!;
    const mine = readlinkSync('/proc/self/ns/net');
    for (let i = 0; i < 200; i++) {
      try {
        if (readlinkSync(`/proc/${pid}/ns/net`) !== mine) break;
      } catch {
        // not started yet
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const run: Runner = (command, args, input) =>
      new Promise((resolve) => {
        const child = spawn('nsenter', ['-t', String(pid), '-n', command, ...args], {
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (b: Buffer) => out.push(b));
        child.stderr.on('data', (b: Buffer) => err.push(b));
        child.on('close', (code) =>
          resolve({ status: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
        );
        // iptables-restore stops reading at the line it refuses: the rest of the input meets a closed
        // pipe (EPIPE), and its answer is in the exit status and stderr.
        child.stdin.on('error', () => undefined);
        child.stdin.end(input ?? '');
      });
    for (const [command, ...args] of SETUP) {
      const r = await run(command!, args);
      if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed in the namespace: ${r.stderr}`);
    }
    return await body(run);
  } finally {
    holder.kill();
  }
}

export type Runner = (
  command: string,
  args: string[],
  input?: string,
) => Promise<{ status: number; stdout: string; stderr: string }>;

/** The kernel's message without iptables-restore's boilerplate. */
function message(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^Try `|^Error occurred at line/.test(l))
    .map((l) => l.replace(/^ip6?tables-restore v[\d.]+ \(legacy\): /, '').trim())
    .join(' / ');
}

function tools(family: Family): { restore: string; save: string } {
  const base = family === 'ipv6' ? 'ip6tables' : 'iptables';
  return { restore: `${base}-legacy-restore`, save: `${base}-legacy-save` };
}

function declarations(table: string, cases: readonly KernelCase[]): string[] {
  const builtin = BUILTIN_CHAINS[table] ?? [];
  return [...new Set(cases.map((c) => c.chain))].map((chain) =>
    builtin.includes(chain) ? `:${chain} ACCEPT [0:0]` : `:${chain} - [0:0]`,
  );
}

/** Phase one: accepted or refused, each case committed on its own. */
async function acceptance(
  run: Runner,
  family: Family,
  table: string,
  cases: readonly KernelCase[],
  answers: Map<KernelCase, KernelAnswer>,
): Promise<KernelCase[]> {
  const accepted: KernelCase[] = [];
  let rest = [...cases];
  const { restore } = tools(family);
  while (rest.length > 0) {
    const lines: string[] = [];
    const firstLine: number[] = [];
    for (const c of rest) {
      firstLine.push(lines.length + 1);
      // The empty commit after each case frees what its rules held (a hashlimit table, a recent
      // list), so the next case meets a clean kernel, as a one-rule file would.
      lines.push(
        `*${table}`,
        ...declarations(table, [c]),
        ...(c.before ?? []).map((b) => `-A ${c.chain} ${b}`),
        `-A ${c.chain} ${c.rule}`,
        'COMMIT',
        `*${table}`,
        'COMMIT',
      );
    }
    const r = await run(restore, ['-w'], lines.join('\n') + '\n');
    if (r.status === 0) {
      accepted.push(...rest);
      break;
    }
    const m = /Error occurred at line: (\d+)/.exec(r.stderr) ?? /line (\d+) failed/.exec(r.stderr);
    if (!m) throw new Error(`iptables-restore failed without a line: ${r.stderr}`);
    const line = Number(m[1]);
    let index = firstLine.length - 1;
    while (index > 0 && firstLine[index]! > line) index--;
    accepted.push(...rest.slice(0, index));
    answers.set(rest[index]!, { ok: false, error: message(r.stderr) });
    rest = rest.slice(index + 1);
  }
  return accepted;
}

/** Phase two: how iptables-save prints accepted cases (many per restore; alone when they interfere). */
async function printing(
  run: Runner,
  family: Family,
  table: string,
  cases: readonly KernelCase[],
  answers: Map<KernelCase, KernelAnswer>,
): Promise<void> {
  const { restore, save } = tools(family);
  const together = async (group: readonly KernelCase[]): Promise<boolean> => {
    // Emptied first, so the group does not meet the previous group's kernel objects.
    const lines = [`*${table}`, 'COMMIT', `*${table}`, ...declarations(table, group)];
    for (const c of group) lines.push(...(c.before ?? []).map((b) => `-A ${c.chain} ${b}`), `-A ${c.chain} ${c.rule}`);
    lines.push('COMMIT');
    if ((await run(restore, ['-w'], lines.join('\n') + '\n')).status !== 0) return false;
    const printed = new Map<string, string[]>();
    for (const l of (await run(save, ['-t', table])).stdout.split('\n')) {
      const m = /^-A (\S+)(?: (.*))?$/.exec(l);
      if (m) printed.set(m[1]!, [...(printed.get(m[1]!) ?? []), m[2] ?? '']);
    }
    const want = new Map<string, number>();
    for (const c of group) want.set(c.chain, (want.get(c.chain) ?? 0) + 1 + (c.before?.length ?? 0));
    if (![...want].every(([chain, n]) => (printed.get(chain)?.length ?? 0) === n)) {
      if (group.length > 1) return false;
      answers.set(group[0]!, {
        ok: true,
        printed: (printed.get(group[0]!.chain) ?? []).slice(group[0]!.before?.length ?? 0).join(' | '),
      });
      return true;
    }
    const next = new Map<string, number>();
    for (const c of group) {
      const i = (next.get(c.chain) ?? 0) + (c.before?.length ?? 0);
      next.set(c.chain, i + 1);
      answers.set(c, { ok: true, printed: printed.get(c.chain)![i]! });
    }
    return true;
  };
  const split = async (group: readonly KernelCase[]): Promise<void> => {
    if (group.length === 0 || (await together(group))) return;
    if (group.length === 1) {
      answers.set(group[0]!, { ok: false, error: 'accepted alone but not printed back' });
      return;
    }
    const half = Math.ceil(group.length / 2);
    await split(group.slice(0, half));
    await split(group.slice(half));
  };
  const plain = cases.filter((c) => !c.before);
  for (let i = 0; i < plain.length; i += 300) await split(plain.slice(i, i + 300));
  for (const c of cases.filter((x) => x.before)) await split([c]);
  // Leave the table empty: its objects (an IDLETIMER label) would meet the next family's cases.
  await run(restore, ['-w'], `*${table}\nCOMMIT\n`);
}

/** The kernel's answer for each case, in order. */
export async function kernelAnswers(cases: readonly KernelCase[]): Promise<KernelAnswer[]> {
  const answers = new Map<KernelCase, KernelAnswer>();
  const groups = new Map<string, KernelCase[]>();
  for (const c of cases) {
    const key = `${c.serial ? 'serial ' : ''}${c.family} ${c.table}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  // IPv4 and IPv6 tables are separate in the kernel: the two families are asked side by side.
  await inNamespace(async (run) => {
    const ask = async (group: readonly KernelCase[]): Promise<void> => {
      const { family, table } = group[0]!;
      const accepted = await acceptance(run, family, table, group, answers);
      await printing(run, family, table, accepted, answers);
    };
    const all = [...groups.values()];
    await Promise.all(
      (['ipv4', 'ipv6'] as const).map(async (family) => {
        for (const group of all.filter((g) => g[0]!.family === family && !g[0]!.serial)) await ask(group);
      }),
    );
    for (const group of all.filter((g) => g[0]!.serial)) await ask(group);
  });
  return cases.map((c) => answers.get(c)!);
}
