// A bounded memo for what big inputs repeat (option groups, addresses): two generations of at
// most `limit` entries each. A key used again moves to the new generation; when that fills, the
// old one is dropped. What a dump repeats stays found, and what it writes once (a comment per
// rule) costs no more than two generations of memory.

export interface Memo<V> {
  get(key: string): V | undefined;
  /** Stores the value and returns it. */
  set<T extends V>(key: string, value: T): T;
}

export interface MemoOptions {
  /**
   * Keep a value only when its key is set the second time (the first time only the key is kept,
   * in two generations of its own): a dump's 20,000 distinct comments then leave 20,000 short
   * keys behind, not 20,000 values that live long enough for the collector to copy them.
   */
  readonly second?: boolean;
}

/** Two generations of at most `limit` keys each (see memo). */
function generations<V>(limit: number): { get(key: string): V | undefined; set(key: string, value: V): void } {
  let young = new Map<string, V>();
  let old = new Map<string, V>();
  const set = (key: string, value: V): void => {
    if (young.size >= limit) {
      old = young;
      young = new Map();
    }
    young.set(key, value);
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

export function memo<V>(limit: number, options: MemoOptions = {}): Memo<V> {
  const values = generations<V>(limit);
  if (!options.second)
    return {
      get: (key) => values.get(key),
      set<T extends V>(key: string, value: T): T {
        values.set(key, value);
        return value;
      },
    };
  const seen = generations<true>(limit);
  return {
    get: (key) => values.get(key),
    set<T extends V>(key: string, value: T): T {
      if (seen.get(key) === undefined) seen.set(key, true);
      else values.set(key, value);
      return value;
    },
  };
}
