import { describe, expect, it } from 'vitest';
import { memo } from '../../src/model/memo.js';

describe('memo', () => {
  it('keeps what is set, two generations of the limit', () => {
    const m = memo<number>(2);
    m.set('a', 1);
    m.set('b', 2);
    m.set('c', 3);
    expect([m.get('a'), m.get('b'), m.get('c')]).toEqual([1, 2, 3]);
    m.set('d', 4);
    m.set('e', 5);
    expect(m.get('a')).toBeUndefined();
  });

  it('with second: a value is kept only when its key is set again, and set returns it either way', () => {
    const m = memo<{ n: number }>(4, { second: true });
    const first = { n: 1 };
    expect(m.set('a', first)).toBe(first);
    expect(m.get('a')).toBeUndefined();
    const again = { n: 2 };
    expect(m.set('a', again)).toBe(again);
    expect(m.get('a')).toBe(again);
  });
});
