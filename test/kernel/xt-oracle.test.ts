// The kernel is the oracle for every option of every extension iptables 1.8.9 ships: cases
// generated from the extension data (test/helpers/xt-cases.ts), IPv4 and IPv6, go through
// iptables-legacy-restore + iptables-legacy-save in fresh network namespaces; virtables must
// accept and refuse the same cases and print accepted ones the same way. The answers are
// recorded in corpus/iptables-extensions/kernel-answers.jsonl for the unit test (which runs
// without root); this test re-derives them and fails when the kernel's answers drift from
// the file (VIRTABLES_RECORD=1 rewrites it).

import { writeFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { describeKernel } from '../helpers/env.js';
import { kernelAnswers, type KernelAnswer } from '../helpers/kernel-batch.js';
import { generateCases, type XtCase } from '../helpers/xt-cases.js';
import { describeAnswer, sameAnswer, virtablesAnswer } from '../helpers/xt-judge.js';
import { KERNEL_LACKS, lacking, readRecorded, RECORD_FILE, recordLine } from '../helpers/xt-record.js';

describeKernel(
  'iptables extensions: the kernel is the oracle',
  () => {
    let cases: XtCase[] = [];
    let answers: KernelAnswer[] = [];
    beforeAll(async () => {
      // VIRTABLES_XT_ONLY=tcp,DNAT narrows the run to some extensions while working on them (no recording then).
      const only = process.env.VIRTABLES_XT_ONLY?.split(',');
      cases = generateCases().filter((c) => !only || only.some((n) => c.about.split(':')[0]!.split(' ')[1] === n));
      answers = await kernelAnswers(cases);
      if (process.env.VIRTABLES_RECORD === '1' && !only)
        writeFileSync(RECORD_FILE, cases.map((c, i) => recordLine(c, answers[i]!)).join('\n') + '\n');
    }, 2_400_000); // 8,175 cases through the kernel: minutes on a quiet machine, 15+ with the suite on a loaded one

    it("the recorded kernel answers are still the kernel's", () => {
      if (process.env.VIRTABLES_XT_ONLY) return;
      const recorded = readRecorded();
      const drift: string[] = [];
      for (const [i, c] of cases.entries()) {
        const r = recorded.get(`${c.family} ${c.table} ${c.chain} ${c.rule}`);
        const k = answers[i]!;
        if (!r) drift.push(`not recorded: ${c.family} ${c.table}/${c.chain} ${c.rule}`);
        else if (r.ok !== k.ok || (r.ok && k.ok && r.printed !== k.printed))
          drift.push(
            `${c.family} ${c.table}/${c.chain} ${c.rule}\n  recorded ${describeAnswer(r)}\n  kernel   ${describeAnswer(k)}`,
          );
      }
      expect(
        drift.slice(0, 30),
        `${drift.length} answers differ from ${RECORD_FILE} (re-record: VIRTABLES_RECORD=1 npx vitest run test/kernel/xt-oracle.test.ts)`,
      ).toEqual([]);
      expect(recorded.size).toBe(cases.length);
    });

    it('virtables accepts, refuses and prints every case as the kernel does (exceptions: modules this kernel lacks)', () => {
      const differ: string[] = [];
      let exceptions = 0;
      for (const [i, c] of cases.entries()) {
        const k = answers[i]!;
        const ours = virtablesAnswer(c);
        const lack = lacking(c, k);
        if (lack) {
          exceptions++;
          continue;
        }
        if (!sameAnswer(k, ours))
          differ.push(
            `${c.about}\n  ${c.family} ${c.table}/${c.chain}: -A ${c.chain} ${c.rule}\n  kernel    ${describeAnswer(k)}\n  virtables ${describeAnswer(ours)}`,
          );
      }
      console.log(
        `[xt-oracle] ${cases.length} cases: ${cases.length - differ.length - exceptions} equal, ${exceptions} exceptions (${KERNEL_LACKS.map((l) => `${l.extension}: ${l.why}`).join('; ')}), ${differ.length} differ`,
      );
      if (differ.length > 0) console.log(differ.slice(0, Number(process.env.VIRTABLES_XT_SHOW ?? 40)).join('\n'));
      expect(differ.length, `${differ.length} of ${cases.length} cases differ`).toBe(0);
    });
  },
  { tools: ['ipset', 'nfacct'] },
);
