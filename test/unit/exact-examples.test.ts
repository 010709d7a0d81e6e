// Issue #14's examples, pinned: each file is accepted and printed, or refused with the reason,
// exactly as the kernel does with it (test/kernel/exact-examples.test.ts checks the kernel side).

import { describe, expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { formatDump } from '../../src/write/save.js';
import { EXAMPLES } from '../helpers/exact-examples.js';

function rulesOfLastTable(text: string): string[] {
  const tables = text.split(/^COMMIT$/m).filter((t) => t.includes('*'));
  return (tables[tables.length - 1] ?? '').split('\n').filter((l) => l.startsWith('-A '));
}

describe('kernel-exact reading and printing (issue #14 examples)', () => {
  it.each(EXAMPLES.map((e) => [e.about, e] as const))('%s', (_about, e) => {
    const read = () => parseSave(e.text, { file: 'example', family: e.family, strict: true });
    if (e.refuses) {
      expect(read).toThrow(e.refuses);
      return;
    }
    expect(rulesOfLastTable(formatDump(read()))).toEqual(e.prints);
  });
});
