// virtables against the kernel's recorded answers for every generated extension case (see
// test/kernel/xt-oracle.test.ts, which re-derives them and fails when they drift): accepts,
// refuses and prints each one-rule file as iptables-legacy-restore + iptables-legacy-save did.
// Runs without root.

import { describe, expect, it } from 'vitest';
import { generateCases } from '../helpers/xt-cases.js';
import { describeAnswer, sameAnswer, virtablesAnswer } from '../helpers/xt-judge.js';
import { lacking, readRecorded, RECORD_FILE } from '../helpers/xt-record.js';

describe('iptables extensions: virtables against the recorded kernel answers', () => {
  const cases = generateCases();
  const recorded = readRecorded();

  it(`the recorded answers cover exactly the generated cases (${cases.length})`, () => {
    const missing = cases.filter((c) => !recorded.has(`${c.family} ${c.table} ${c.chain} ${c.rule}`));
    expect(
      missing.slice(0, 10).map((c) => `${c.family} ${c.table}/${c.chain} ${c.rule}`),
      `${missing.length} cases not in ${RECORD_FILE} (re-record: VIRTABLES_RECORD=1 npx vitest run test/kernel/xt-oracle.test.ts, as root)`,
    ).toEqual([]);
    expect(recorded.size).toBe(cases.length);
  });

  it("virtables gives the kernel's answer for every case (but where this kernel lacks the module)", () => {
    const differ: string[] = [];
    let exceptions = 0;
    for (const c of cases) {
      const k = recorded.get(`${c.family} ${c.table} ${c.chain} ${c.rule}`);
      if (!k) continue;
      if (lacking(c, k)) {
        exceptions++;
        continue;
      }
      const ours = virtablesAnswer(c);
      if (!sameAnswer(k, ours))
        differ.push(
          `${c.about}: ${c.family} ${c.table}/${c.chain} -A ${c.chain} ${c.rule}\n  kernel    ${describeAnswer(k)}\n  virtables ${describeAnswer(ours)}`,
        );
    }
    expect(differ.slice(0, 20), `${differ.length} of ${cases.length} cases differ`).toEqual([]);
    expect(exceptions).toBeLessThan(cases.length / 10);
  });
});
