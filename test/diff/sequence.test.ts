// The alignment is a longest common subsequence: checked against the textbook dynamic
// programme on random sequences, and its edit script rebuilds both sides.

import { describe, expect, it } from 'vitest';
import { alignSequences } from '../../src/diff/sequence.js';

function lcsLength(a: string[], b: string[]): number {
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i]![j] = a[i - 1] === b[j - 1] ? dp[i - 1]![j - 1]! + 1 : Math.max(dp[i - 1]![j]!, dp[i]![j - 1]!);
  return dp[a.length]![b.length]!;
}

/** Deterministic pseudo-random numbers (no flaky seeds). */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('alignSequences', () => {
  const random = rng(42);
  const cases = Array.from({ length: 300 }, (_, i) => {
    const alphabet = 2 + (i % 7);
    const seq = (len: number) =>
      Array.from({ length: len }, () => String.fromCharCode(97 + Math.floor(random() * alphabet)));
    return [seq(Math.floor(random() * 30)), seq(Math.floor(random() * 30))] as const;
  });
  it.each(cases.map((c, i) => [i, c[0], c[1]]))('case %i: optimal and consistent', (_i, a, b) => {
    const edits = alignSequences(a, b);
    const equal = edits.filter((e) => e.kind === 'equal');
    expect(equal.length).toBe(lcsLength([...a], [...b]));
    // every index of a and b appears exactly once, in order
    expect(edits.flatMap((e) => (e.kind === 'insert' ? [] : [e.a]))).toEqual(a.map((_, i) => i));
    expect(edits.flatMap((e) => (e.kind === 'delete' ? [] : [e.b]))).toEqual(b.map((_, i) => i));
    for (const e of equal) expect(a[e.a]).toBe(b[e.b]);
  });
});

describe('alignSequences on long chains', () => {
  it('two 20,000-key sequences that differ everywhere still align consistently (patience anchors)', () => {
    const random = rng(7);
    const a = Array.from({ length: 20_000 }, (_, i) => `r${i}`);
    const b = a
      .filter(() => random() > 0.3)
      .concat(Array.from({ length: 5000 }, (_, i) => `n${i}`))
      .sort(() => random() - 0.5);
    const edits = alignSequences(a, b);
    expect(edits.flatMap((e) => (e.kind === 'insert' ? [] : [e.a]))).toEqual(a.map((_, i) => i));
    expect(edits.flatMap((e) => (e.kind === 'delete' ? [] : [e.b]))).toEqual(b.map((_, i) => i));
    for (const e of edits) if (e.kind === 'equal') expect(a[e.a]).toBe(b[e.b]);
  });
  it('one insertion in a 5,000-rule chain is one insert', () => {
    const a = Array.from({ length: 5000 }, (_, i) => `r${i % 50}`);
    const b = [...a.slice(0, 2500), 'new', ...a.slice(2500)];
    const edits = alignSequences(a, b);
    expect(edits.filter((e) => e.kind !== 'equal')).toEqual([{ kind: 'insert', b: 2500 }]);
  });
});
