// virtables lab list [LAB] | virtables lab check LAB --answer DIR [--only ID] [--format text|json] [-v]

import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { UsageError } from '../model/errors.js';
import { packagePath } from '../package.js';
import { gradeAnswers, labsIn, readLab, type Lab, type QueryResult } from '../lab/lab.js';
import { commandHelp } from './args.js';
import type { Args } from './spec.js';
import { resultJson, resultLines, summaryLine } from './check-report.js';
import type { Io } from './io.js';
import { styleFor, type Style } from './style.js';

/** The bundled labs: corpus/labs of the installed package. */
function bundledLabs(): string {
  return packagePath('corpus', 'labs');
}

function locate(lab: string): string {
  if (existsSync(lab)) return lab;
  const bundled = join(bundledLabs(), lab);
  if (existsSync(bundled)) return relative(process.cwd(), bundled) || '.';
  throw new UsageError(
    `lab: no lab '${lab}' (not a path, nor a bundled lab: ${labsIn(bundledLabs()).join(', ') || 'none'})`,
  );
}

function listText(labs: Lab[], s: Style): string {
  const out: string[] = [];
  for (const lab of labs) {
    out.push(`${s.bold(lab.title ?? lab.dir)} ${s.dim(`(${lab.dir})`)}`);
    for (const e of lab.entries) {
      out.push(
        `  ${e.kind} ${e.id.padEnd(6)} ${e.title ?? ''} ${s.dim(`[${e.sheets.map((x) => x.file).join(', ')}]`)}`,
      );
      if (e.about) out.push(`               ${e.about.replace(/\s+/g, ' ').trim()}`);
    }
    out.push('');
  }
  return out.join('\n');
}

function listJson(labs: Lab[]) {
  return labs.map((l) => ({
    dir: l.dir,
    title: l.title,
    about: l.about,
    entries: l.entries.map((e) => ({
      kind: e.kind,
      id: e.id,
      title: e.title,
      about: e.about,
      sheets: e.sheets.map((x) => x.file),
    })),
  }));
}

function checkText(lab: Lab, answers: string, results: QueryResult[], s: Style, verbose: boolean): string {
  const out = [`${s.bold(lab.title ?? lab.dir)}  ${s.dim(`answer: ${answers}`)}`, ''];
  for (const q of results) {
    const mark =
      q.status === 'pass'
        ? s.green('PASS')
        : q.status === 'fail'
          ? s.red('FAIL')
          : q.status === 'unreadable'
            ? s.red('UNREADABLE')
            : s.yellow('UNANSWERED');
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
  out.push(
    `${results.length} graded: ${n('pass')} passed, ${n('fail')} failed${n('unreadable') ? `, ${n('unreadable')} unreadable` : ''}${n('unanswered') ? `, ${n('unanswered')} unanswered` : ''}`,
    '',
  );
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
      kind: q.entry.kind,
      id: q.entry.id,
      title: q.entry.title,
      answer: q.answer,
      status: q.status,
      reason: q.reason,
      sheets: q.sheets.map((sh) => ({ file: sh.file, era: sh.era, results: sh.results.map(resultJson) })),
    })),
  };
}

export async function run({ values, positionals }: Args<'lab'>, io: Io): Promise<number> {
  if (positionals.length === 0) {
    io.stdout(await commandHelp('lab'));
    return 2;
  }
  const format = values.format ?? 'text';
  const [sub, ...rest] = positionals;
  const s = styleFor(io);
  if (sub === 'list') {
    if (rest.length > 1) throw new UsageError('lab list: give at most one lab');
    if (values.answer || values.only) throw new UsageError('lab list: --answer and --only belong to lab check');
    const labs =
      rest.length === 1
        ? [readLab(locate(rest[0]!), io.readBytes)]
        : labsIn(bundledLabs()).map((d) => readLab(join(bundledLabs(), d), io.readBytes));
    io.stdout(format === 'json' ? JSON.stringify(listJson(labs), null, 2) + '\n' : listText(labs, s));
    return 0;
  }
  if (sub === 'check') {
    if (rest.length !== 1) throw new UsageError('lab check: give one lab (a directory or a bundled lab name)');
    if (!values.answer) throw new UsageError('lab check: --answer DIR is required');
    const lab = readLab(locate(rest[0]!), io.readBytes);
    const results = gradeAnswers(lab, values.answer, values.only ?? null, io.readBytes);
    io.stdout(
      format === 'json'
        ? JSON.stringify(checkJson(lab, values.answer, results), null, 2) + '\n'
        : checkText(lab, values.answer, results, s, values.verbose === true),
    );
    return results.every((q) => q.status === 'pass') ? 0 : 1;
  }
  throw new UsageError(`lab: unknown subcommand '${sub}' (list or check)`);
}
