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
