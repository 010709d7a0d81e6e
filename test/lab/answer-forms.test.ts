// Lab answers in every form the docs promise, and grading that goes on past a bad one: a
// student's directory with one right, one wrong and one unreadable answer is graded whole; a
// hook script's iptables commands are taken and its other lines said; a listing of the whole
// host is the host's state, not commands run on top of started networks.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { REPO_CORPUS } from '../helpers/env.js';

const LAB = join(REPO_CORPUS, 'labs', 'xen-networking');
const ANSWERS = join(LAB, 'answers');

interface Graded {
  unreadable: number;
  queries: Array<{
    id: string;
    status: string;
    reason: string | null;
    sheets: Array<{
      results: Array<{ text: string; status: string; message: string; notes: string[]; firewall: string | null }>;
    }>;
  }>;
}

const grade = async (answer: string, only?: string): Promise<{ code: number; report: Graded; stdout: string }> => {
  const args = ['lab', 'check', LAB, '--answer', answer, ...(only ? ['--only', only] : [])];
  const json = await runCli([...args, '--format', 'json']);
  return { code: json.code, report: JSON.parse(json.stdout) as Graded, stdout: (await runCli(args)).stdout };
};

describe('lab answers in every form', () => {
  it('one unreadable task never stops the others: it is graded unreadable with a positioned reason', async () => {
    const { code, report, stdout } = await grade(join(LAB, 'student-mixed'));
    expect(code).toBe(1);
    expect(report.queries.map((q) => `${q.id} ${q.status}`)).toEqual([
      '0.2.1 fail',
      '0.2.2 unanswered',
      '4 pass',
      '5 unreadable',
      '6 unanswered',
      '7 unanswered',
      '8 unanswered',
    ]);
    expect(report.queries.find((q) => q.id === '5')!.reason).toBe(
      `${join(LAB, 'student-mixed', '5', 'host.save')}:4:1: unexpected end of input: table 'nat' (line 1) is not closed with COMMIT (truncated dump?)`,
    );
    expect(report.unreadable).toBe(1);
    expect(stdout).toContain(
      'query 5 — A web server on a natted guest, reached from the campus LAN: UNREADABLE\n  cannot read the answer: ',
    );
    expect(stdout).toContain('7 graded: 1 passed, 1 failed, 1 unreadable, 4 unanswered');
  });

  it('a hook script with an if block: its iptables commands are taken, the other lines said', async () => {
    const { report } = await grade(join(ANSWERS, '4', 'reference-hook'), '4');
    expect(report.queries[0]!.status).toBe('pass');
    const notes = report.queries[0]!.sheets[0]!.results[0]!.notes;
    expect(notes).toEqual([
      `${join(ANSWERS, '4', 'reference-hook', 'rules.txt')}: 6 lines of the script are not iptables commands and were skipped (lines 1 \`#!/bin/sh\`, 4 \`BRIDGE=virbr1\`, 5 \`if [ "$1" = "host-only" ] && [ "$2" = "started" ]; then\`, 6 \`logger "closing DNS on $BRIDGE"\`, 9 \`fi\`, 10 \`exit 0\`); its iptables commands were all taken, whatever their conditions`,
    ]);
  });

  it('a whole iptables-save in rules.txt, an iptables -S listing in host.save: the host state, not commands on started networks', async () => {
    for (const [variant, file] of [
      ['reference-save-in-rules', 'rules.txt'],
      ['reference-list-host', 'host.save'],
    ] as const) {
      const { report } = await grade(join(ANSWERS, '4', variant), '4');
      expect(report.queries[0]!.status, variant).toBe('pass');
      const fw = report.queries[0]!.sheets[0]!.results[0]!.firewall!;
      expect(fw, variant).toContain(join(ANSWERS, '4', variant, file));
      expect(fw, variant).not.toContain('after starting');
    }
  });

  it('diff before after output, normal with a prompt line or unified, as the rules a network adds', async () => {
    for (const variant of ['reference-diff', 'reference-unified']) {
      const { report } = await grade(join(ANSWERS, '0.2.1', variant), '0.2.1');
      expect(report.queries[0]!.status, variant).toBe('pass');
    }
  });

  it("iptables -R replaces a rule by its number; setup.expect lists a router's networks in any order", async () => {
    expect((await grade(join(ANSWERS, '5', 'reference-replace'), '5')).report.queries[0]!.status).toBe('pass');
    expect((await grade(join(ANSWERS, '6', 'reference-any-order'), '6')).report.queries[0]!.status).toBe('pass');
  });

  it("lab list shows each task's about in text too", async () => {
    const r = await runCli(['lab', 'list']);
    expect(r.stdout).toContain('  query 5      A web server on a natted guest, reached from the campus LAN');
    expect(r.stdout).toContain(
      "               Forward the host's port 8080 to port 80 of vm1 (192.168.124.10 on natted): host.save, or rules.txt with the commands.",
    );
  });
});
