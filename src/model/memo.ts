// A bounded memo for what big inputs repeat (option groups, addresses): two generations of at
// most `limit` entries each. A key used again moves to the new generation; when that fills, the
// old one is dropped. What a dump repeats stays found, and what it writes once (a comment per
// rule) costs no more than two generations of memory.

export interface Memo<V> {
  get(key: string): V | undefined;
  /** Stores the value and returns it. */
  set<T extends V>(key: string, value: T): T;
}

export function memo<V>(limit: number): Memo<V> {
  let young = new Map<string, V>();
  let old = new Map<string, V>();
  const set = <T extends V>(key: string, value: T): T => {
    if (young.size >= limit) {
      old = young;
      young = new Map();
    }
    young.set(key, value);
    return value;
  };
  return {
    get(key) {
      const v = young.get(key);
      if (v !== undefined) return v;
      const o = old.get(key);
      if (o !== undefined) set(key, o);
      return o;
    },
    set,
  };
}
