// A lab: a directory with a lab file (lab.txt: its title, prose, and the tasks and queries,
// each with its expectation sheets) — and grading a student's answer directory against it:
// one sub-directory per task or query (named by its id: 0.2.1/, 4/ or q4/), each checked
// with the evidence found in it.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, isAbsolute } from 'node:path';
import { parseLabFile, type LabEntry } from '../../grammar/expect.js';
import { InputError, UsageError } from '../model/errors.js';
import { decodeText } from '../model/text.js';
import { checkSheet, passed, type SheetResult } from './check.js';
import { answerEvidence } from './evidence.js';
import type { ReadBytes } from '../input/disk.js';
import { loadSheet } from './sheet.js';

export const LAB_FILE = 'lab.txt';

export interface Lab {
  readonly dir: string;
  readonly file: string;
  readonly title: string | null;
  readonly about: string | null;
  readonly entries: LabEntry[];
}

export function readLab(path: string, read: ReadBytes): Lab {
  const isDir = existsSync(path) && statSync(path).isDirectory();
  const file = isDir ? join(path, LAB_FILE) : path;
  if (isDir && !existsSync(file))
    throw new UsageError(`lab: ${path} has no ${LAB_FILE} (the lab file listing its tasks and queries)`);
  const parsed = parseLabFile(decodeText(file, read(file)), file);
  const ids = new Set<string>();
  for (const e of parsed.entries) {
    if (ids.has(e.id)) throw new UsageError(`lab: ${file}:${e.at.line}: ${e.kind} ${e.id} is listed twice`);
    ids.add(e.id);
  }
  return { dir: dirname(file), file, title: parsed.title, about: parsed.about, entries: parsed.entries };
}

/** The labs in a directory of labs (each a sub-directory with a lab file). */
export function labsIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .filter((d) => existsSync(join(dir, d, LAB_FILE)));
}

export type QueryStatus = 'pass' | 'fail' | 'unanswered' | 'unreadable';

export interface QueryResult {
  readonly entry: LabEntry;
  /** The directory the answer was read from; null when there was none. */
  readonly answer: string | null;
  readonly status: QueryStatus;
  readonly sheets: SheetResult[];
  /** unreadable: the positioned reason (`FILE:LINE:COL: …`) a file of the answer could not be read. */
  readonly reason: string | null;
}

/**
 * Where a task's answer is: DIR/ID (or DIR/qID, DIR/query-ID, DIR/task-ID); DIR itself when only that task is graded.
 */
export function answerDirFor(entry: LabEntry, answers: string, only: boolean): string | null {
  for (const name of [entry.id, `q${entry.id}`, `${entry.kind}-${entry.id}`, `${entry.kind}${entry.id}`]) {
    const p = join(answers, name);
    if (existsSync(p) && statSync(p).isDirectory()) return p;
  }
  return only && existsSync(answers) ? answers : null;
}

function isInside(file: string, dir: string): boolean {
  const r = relative(dir, file);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r);
}

export function gradeAnswers(lab: Lab, answers: string, only: string | null, read: ReadBytes): QueryResult[] {
  if (!existsSync(answers) || !statSync(answers).isDirectory())
    throw new UsageError(`lab check: ${answers}: no such answer directory`);
  const entries = only === null ? lab.entries : lab.entries.filter((e) => e.id === only || `q${e.id}` === only);
  if (only !== null && entries.length === 0)
    throw new UsageError(
      `lab check: ${lab.file} has no task or query '${only}' (it has ${lab.entries.map((e) => e.id).join(', ')})`,
    );
  return entries.map((entry): QueryResult => {
    const dir = answerDirFor(entry, answers, only !== null);
    if (!dir) return { entry, answer: null, status: 'unanswered', sheets: [], reason: null };
    try {
      const evidence = answerEvidence(dir, read);
      const sheets = entry.sheets.map((s) =>
        checkSheet(loadSheet(join(lab.dir, s.file), evidence, read), evidence, read),
      );
      return { entry, answer: dir, status: sheets.every(passed) ? 'pass' : 'fail', sheets, reason: null };
    } catch (e) {
      // A file of the answer that cannot be read makes this task unreadable, not the whole grading.
      if (e instanceof InputError && isInside(e.file, dir))
        return { entry, answer: dir, status: 'unreadable', sheets: [], reason: e.message };
      throw e;
    }
  });
}
