// Memory: V8 aborts the whole process with a heap trace when it runs out, which no caller can
// catch. Readers of big inputs check the heap as they go and stop first, with a named limit.

import { getHeapStatistics } from 'node:v8';
import { InputError } from './errors.js';

/** Share of V8's heap limit a reader may fill before it gives up (the rest is for the work after it). */
export const HEAP_SHARE = 0.7;

const MiB = (n: number): string => `${Math.round(n / 1024 / 1024)} MiB`;

/** Throws a positioned error when the heap is past its share: `what` at `file:line` is too big to hold. */
export function checkHeap(file: string, line: number, what: string): void {
  const { used_heap_size: used, heap_size_limit: limit } = getHeapStatistics();
  if (used <= limit * HEAP_SHARE) return;
  throw new InputError(
    file,
    line,
    1,
    `${what} needs more memory than virtables may use: ${MiB(used)} in use at this line, of a ${MiB(limit)} heap; split the input, or give node more (NODE_OPTIONS=--max-old-space-size=MiB)`,
  );
}
