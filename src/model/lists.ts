// Array helpers for lists as long as the input: spreading one into a call (`push(...xs)`,
// `Math.max(...xs)`) passes each element as an argument and overflows the stack past ~100,000.

/** Appends every item to `out`, in order. */
export function pushAll<T>(out: T[], items: Iterable<T>): T[] {
  for (const item of items) out.push(item);
  return out;
}

/** The largest number (-Infinity for none), like Math.max without spreading. */
export function maxOf(values: Iterable<number>): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  return max;
}

/** The smallest number (Infinity for none), like Math.min without spreading. */
export function minOf(values: Iterable<number>): number {
  let min = Infinity;
  for (const v of values) if (v < min) min = v;
  return min;
}

/** The name given most often (the first of those tied), or null for none. */
export function mostCommon(names: readonly string[]): string | null {
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  let best: string | null = null;
  for (const [n, c] of counts) if (best === null || c > counts.get(best)!) best = n;
  return best;
}

/**
 * The items grouped by a key, each group in the items' order: one pass over them (filtering the
 * whole list once per key, once per network, made explain of 1,000 networks quadratic).
 */
export function groupBy<T, K>(items: Iterable<T>, key: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = out.get(k);
    if (group) group.push(item);
    else out.set(k, [item]);
  }
  return out;
}
