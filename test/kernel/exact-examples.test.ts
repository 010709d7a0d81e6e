// Issue #14's examples against the kernel: iptables-legacy-restore refuses the files
// virtables refuses and iptables-legacy-save prints the others' rules as pinned
// (test/helpers/exact-examples.ts; test/unit/exact-examples.test.ts checks virtables).

import { expect, it } from 'vitest';
import { EXAMPLES } from '../helpers/exact-examples.js';
import { describeKernel } from '../helpers/env.js';
import { kernelRoundTrip } from '../helpers/kernel.js';

describeKernel('the kernel on the pinned examples', () => {
  it.each(EXAMPLES.map((e) => [e.about, e] as const))('%s', (_about, e) => {
    const k = kernelRoundTrip(e.text, e.family);
    if (e.refuses) {
      expect(k.ok, `the kernel accepts it:\n${k.stdout}`).toBe(false);
      return;
    }
    expect(k.ok, k.stderr).toBe(true);
    const table = /^\*(\S+)/m.exec(
      e.text
        .split('COMMIT')
        .filter((t) => t.includes('*'))
        .pop()!,
    )![1];
    const body = k.stdout.split(/^\*/m).find((t) => t.startsWith(`${table}\n`)) ?? '';
    expect(body.split('\n').filter((l) => l.startsWith('-A '))).toEqual(e.prints);
  });
});
