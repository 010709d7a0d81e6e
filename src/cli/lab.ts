// virtables lab list [LAB] | virtables lab check LAB --answer DIR [--only ID] [--format text|json] [-v]

import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../model/errors.js';
import { gradeAnswers, labsIn, readLab, type Lab, type QueryResult } from '../lab/lab.js';
import { oneOf, parseCommandArgs } from './args.js';
import { resultJson, resultLines, summaryLine } from './check-report.js';
import type { Io } from './io.js';
import { styleFor, type Style } from './style.js';

export const help = `Usage: virtables lab list [LAB] [--format text|json]
       virtables lab check LAB --answer DIR [--only ID] [--format text|json] [-v]

A lab is a directory with a lab file (lab.txt) listing its tasks and queries, each checked
by expectation sheets (docs/expect.md). 'list' shows the bundled labs, or one lab's tasks.
'check' grades an answer directory: one sub-directory per task or query, named by its id
(0.2.1/, 4/ or q4/), holding the student's evidence by name — host.save (iptables-save of
the host), before.save, *.xml (network definitions), rules.txt (rules or commands, in
iptables-save, iptables -S, iptables -L -n [-v] or command form), GUEST.save (a guest's own
firewall), setup.expect (the guests of the set-up) — whatever the query asks for.

  LAB             a lab directory, or the name of a bundled lab (xen-networking)
  --answer DIR    the answer directory
  --only ID       grade one task or query; DIR may then be that task's answer itself
  --format text   per task: PASS/FAIL and, for each failed check, why and the hint (default)
  --format json   {lab, title, answer, passed, failed, unanswered, queries} (docs/expect.md)
  -v, --verbose   every check, with traces and rule lists, not only the failed ones
  -h, --help      this text

Exit status: 0 every graded task passes, 1 one fails or is unanswered, 2 bad input or usage.
`;

interface Values {
  help?: boolean;
  format?: string;
  answer?: string;
  only?: string;
  verbose?: boolean;
}

/** The bundled labs: corpus/labs of the installed package (from src/cli or dist/src/cli). */
function bundledLabs(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'corpus', 'labs');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return resolve('corpus', 'labs');
}

function locate(lab: string): string {
  if (existsSync(lab)) return lab;
  const bundled = join(bundledLabs(), lab);
  if (existsSync(bundled)) return relative(process.cwd(), bundled) || '.';
  throw new UsageError(`lab: no lab '${lab}' (not a path, nor a bundled lab: ${labsIn(bundledLabs()).join(', ') || 'none'})`);
}

function listText(labs: Lab[], s: Style): string {
  const out: string[] = [];
  for (const lab of labs) {
    out.push(`${s.bold(lab.title ?? lab.dir)} ${s.dim(`(${lab.dir})`)}`);
    for (const e of lab.entries) {
      out.push(`  ${e.kind} ${e.id.padEnd(6)} ${e.title ?? ''} ${s.dim(`[${e.sheets.map((x) => x.file).join(', ')}]`)}`);
      if (e.about) out.push(`               ${e.about.replace(/\s+/g, ' ').trim()}`);
    }
    out.push('');
  }
  return out.join('\n');
}

function listJson(labs: Lab[]) {
  return labs.map((l) => ({ dir: l.dir, title: l.title, about: l.about, entries: l.entries.map((e) => ({ kind: e.kind, id: e.id, title: e.title, about: e.about, sheets: e.sheets.map((x) => x.file) })) }));
}

function checkText(lab: Lab, answers: string, results: QueryResult[], s: Style, verbose: boolean): string {
  const out = [`${s.bold(lab.title ?? lab.dir)}  ${s.dim(`answer: ${answers}`)}`, ''];
  for (const q of results) {
    const mark = q.status === 'pass' ? s.green('PASS') : q.status === 'fail' ? s.red('FAIL') : q.status === 'unreadable' ? s.red('UNREADABLE') : s.yellow('UNANSWERED');
    out.push(`${q.entry.kind} ${q.entry.id}${q.entry.title ? ` — ${q.entry.title}` : ''}: ${mark}`);
    if (q.status === 'unanswered') out.push(`  no answer: expected a directory ${q.entry.id}/ in ${answers}`);
    if (q.status === 'unreadable') out.push(`  cannot read the answer: ${q.reason}`);
    for (const sheet of q.sheets) {
      const shown = sheet.results.filter((r) => verbose || r.status !== 'pass');
      for (const r of shown) out.push(...resultLines(r, s, verbose));
      if (shown.length > 0 || verbose) out.push(`  ${s.dim(`${sheet.file}: ${summaryLine(sheet.results)}`)}`);
    }
    out.push('');
  }
  const n = (st: QueryResult['status']): number => results.filter((q) => q.status === st).length;
  out.push(`${results.length} graded: ${n('pass')} passed, ${n('fail')} failed${n('unreadable') ? `, ${n('unreadable')} unreadable` : ''}${n('unanswered') ? `, ${n('unanswered')} unanswered` : ''}`, '');
  return out.join('\n');
}

function checkJson(lab: Lab, answers: string, results: QueryResult[]) {
  const n = (st: QueryResult['status']): number => results.filter((q) => q.status === st).length;
  return {
    lab: lab.dir,
    title: lab.title,
    answer: answers,
    passed: n('pass'),
    failed: n('fail'),
    unanswered: n('unanswered'),
    unreadable: n('unreadable'),
    queries: results.map((q) => ({
      kind: q.entry.kind, id: q.entry.id, title: q.entry.title, answer: q.answer, status: q.status, reason: q.reason,
      sheets: q.sheets.map((sh) => ({ file: sh.file, era: sh.era, results: sh.results.map(resultJson) })),
    })),
  };
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs<Values>('lab', argv, {
    format: { type: 'string', short: 'f' },
    answer: { type: 'string' },
    only: { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
  });
  if (values.help || positionals.length === 0) {
    io.stdout(help);
    return values.help ? 0 : 2;
  }
  const format = oneOf('lab', '--format', values.format, ['text', 'json'] as const, 'text');
  const [sub, ...rest] = positionals;
  const s = styleFor(io);
  if (sub === 'list') {
    if (rest.length > 1) throw new UsageError('lab list: give at most one lab');
    if (values.answer || values.only) throw new UsageError('lab list: --answer and --only belong to lab check');
    const labs = rest.length === 1 ? [readLab(locate(rest[0]!), io.readBytes)] : labsIn(bundledLabs()).map((d) => readLab(join(bundledLabs(), d), io.readBytes));
    io.stdout(format === 'json' ? JSON.stringify(listJson(labs), null, 2) + '\n' : listText(labs, s));
    return 0;
  }
  if (sub === 'check') {
    if (rest.length !== 1) throw new UsageError('lab check: give one lab (a directory or a bundled lab name)');
    if (!values.answer) throw new UsageError('lab check: --answer DIR is required');
    const lab = readLab(locate(rest[0]!), io.readBytes);
    const results = gradeAnswers(lab, values.answer, values.only ?? null, io.readBytes);
    io.stdout(format === 'json' ? JSON.stringify(checkJson(lab, values.answer, results), null, 2) + '\n' : checkText(lab, values.answer, results, s, values.verbose === true));
    return results.every((q) => q.status === 'pass') ? 0 : 1;
  }
  throw new UsageError(`lab: unknown subcommand '${sub}' (list or check)`);
}
