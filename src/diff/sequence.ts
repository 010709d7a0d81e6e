// Longest-common-subsequence alignment of two key sequences: Myers' O(ND) algorithm (optimal),
// and where two long chains differ too much for its trace to fit a memory budget, patience
// anchors (keys unique on both sides) split the work first. Chains of 5,000 rules with a
// handful of changes align in linear time.

export type Edit =
  | { readonly kind: 'equal'; readonly a: number; readonly b: number }
  | { readonly kind: 'delete'; readonly a: number }
  | { readonly kind: 'insert'; readonly b: number };

/** Myers' trace may hold at most this many entries (4 bytes each) before patience takes over. */
const MYERS_BUDGET = 16_000_000;

export function alignSequences(a: readonly string[], b: readonly string[]): Edit[] {
  const out: Edit[] = [];
  align(a, b, 0, a.length, 0, b.length, out);
  return out;
}

function align(
  a: readonly string[],
  b: readonly string[],
  a0: number,
  a1: number,
  b0: number,
  b1: number,
  out: Edit[],
): void {
  // common prefix
  while (a0 < a1 && b0 < b1 && a[a0] === b[b0]) out.push({ kind: 'equal', a: a0++, b: b0++ });
  // common suffix (emitted after the middle)
  let tail = 0;
  while (a1 - tail > a0 && b1 - tail > b0 && a[a1 - tail - 1] === b[b1 - tail - 1]) tail++;
  const aEnd = a1 - tail;
  const bEnd = b1 - tail;
  if (a0 === aEnd) for (let j = b0; j < bEnd; j++) out.push({ kind: 'insert', b: j });
  else if (b0 === bEnd) for (let i = a0; i < aEnd; i++) out.push({ kind: 'delete', a: i });
  else if (!myers(a, b, a0, aEnd, b0, bEnd, out)) {
    const anchors = uniqueAnchors(a, b, a0, aEnd, b0, bEnd);
    if (anchors.length > 0) {
      let ai = a0;
      let bi = b0;
      for (const [x, y] of anchors) {
        align(a, b, ai, x, bi, y, out);
        out.push({ kind: 'equal', a: x, b: y });
        ai = x + 1;
        bi = y + 1;
      }
      align(a, b, ai, aEnd, bi, bEnd, out);
    } else {
      for (let i = a0; i < aEnd; i++) out.push({ kind: 'delete', a: i });
      for (let j = b0; j < bEnd; j++) out.push({ kind: 'insert', b: j });
    }
  }
  for (let k = tail; k > 0; k--) out.push({ kind: 'equal', a: a1 - k, b: b1 - k });
}

/** Keys occurring exactly once in each range, paired, reduced to their longest increasing run. */
function uniqueAnchors(
  a: readonly string[],
  b: readonly string[],
  a0: number,
  a1: number,
  b0: number,
  b1: number,
): Array<[number, number]> {
  const count = new Map<string, { a: number; b: number; ai: number; bi: number }>();
  for (let i = a0; i < a1; i++) {
    const c = count.get(a[i]!) ?? { a: 0, b: 0, ai: i, bi: -1 };
    c.a++;
    c.ai = i;
    count.set(a[i]!, c);
  }
  for (let j = b0; j < b1; j++) {
    const c = count.get(b[j]!);
    if (!c) continue;
    c.b++;
    c.bi = j;
  }
  const pairs: Array<[number, number]> = [];
  for (const c of count.values()) if (c.a === 1 && c.b === 1) pairs.push([c.ai, c.bi]);
  pairs.sort((x, y) => x[0] - y[0]);
  return longestIncreasing(pairs);
}

function longestIncreasing(pairs: Array<[number, number]>): Array<[number, number]> {
  const tails: number[] = [];
  const prev: number[] = new Array<number>(pairs.length).fill(-1);
  for (let i = 0; i < pairs.length; i++) {
    const y = pairs[i]![1];
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pairs[tails[mid]!]![1] < y) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[i] = tails[lo - 1]!;
    tails[lo] = i;
  }
  const out: Array<[number, number]> = [];
  for (let i = tails.length > 0 ? tails[tails.length - 1]! : -1; i >= 0; i = prev[i]!) out.push(pairs[i]!);
  return out.reverse();
}

/** Myers' greedy LCS with a stored trace; false (and nothing emitted) when the trace outgrows its budget. */
function myers(
  a: readonly string[],
  b: readonly string[],
  a0: number,
  a1: number,
  b0: number,
  b1: number,
  out: Edit[],
): boolean {
  const n = a1 - a0;
  const m = b1 - b0;
  const max = n + m;
  const offset = max;
  let v: Int32Array = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    if ((d + 1) * v.length > MYERS_BUDGET) return false;
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[a0 + x] === b[b0 + y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // backtrack: trace[d] holds the furthest x per diagonal before round d
  const edits: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0 && (x > 0 || y > 0); d--) {
    v = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : v[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) edits.push({ kind: 'equal', a: a0 + --x, b: b0 + --y });
    if (d > 0) {
      if (x === prevX) edits.push({ kind: 'insert', b: b0 + --y });
      else edits.push({ kind: 'delete', a: a0 + --x });
    }
  }
  while (x > 0 && y > 0) edits.push({ kind: 'equal', a: a0 + --x, b: b0 + --y });
  for (let i = edits.length - 1; i >= 0; i--) out.push(edits[i]!);
  return true;
}

/**
 * Pairs the rules a chain lost with those it gained by their key: a rule both removed and added
 * in the same chain has moved (the earliest removed goes with the earliest added).
 */
export function pairMoves<T extends { readonly key: string }>(deleted: readonly T[], inserted: readonly T[]) {
  const waiting = new Map<string, T[]>();
  for (const r of deleted) {
    const list = waiting.get(r.key);
    if (list) list.push(r);
    else waiting.set(r.key, [r]);
  }
  const moved: Array<{ before: T; after: T }> = [];
  const added: T[] = [];
  const movedFrom = new Set<T>();
  for (const r of inserted) {
    const from = waiting.get(r.key)?.shift();
    if (from) {
      moved.push({ before: from, after: r });
      movedFrom.add(from);
    } else added.push(r);
  }
  return { moved, added, removed: deleted.filter((r) => !movedFrom.has(r)) };
}
