// Boxed tables for a terminal (net, explain, the trace matrix): columns of given or natural
// width, words wrapped by display width, each cell measured once. cli-table3, used before,
// re-measured a whole multi-line or wide-character cell for every line it printed: a network
// with 80 DHCP ranges took 15 s, a rule with a 3,000-character CJK comment 51 s.

import { maxOf } from '../model/lists.js';

export interface TableSpec {
  readonly head?: readonly string[];
  /** Column widths with the blank on each side; natural widths (the widest line) when not given. */
  readonly widths?: readonly number[];
  readonly headStyle?: (s: string) => string;
  readonly borderStyle?: (s: string) => string;
}

/** A row of cells (one per column), or one cell across all columns. */
export type TableRow = readonly string[] | { readonly span: string };

const COMBINING = /^[\p{Mn}\p{Me}\p{Cf}]$/u;

/** Columns a code point takes on a terminal: 0 for combining marks, 2 for East Asian wide and emoji. */
export function charWidth(cp: number): number {
  if (cp < 0x300) return 1;
  if (COMBINING.test(String.fromCodePoint(cp))) return 0;
  const wide =
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd);
  return wide ? 2 : 1;
}

/** Display width of a line, escape sequences (colour) not counted. */
export function textWidth(text: string): number {
  let width = 0;
  let escape = false;
  for (const ch of text) {
    if (escape) {
      if (ch >= '@' && ch <= '~' && ch !== '[') escape = false;
      continue;
    }
    if (ch === '\u001b') {
      escape = true;
      continue;
    }
    width += charWidth(ch.codePointAt(0)!);
  }
  return width;
}

/** The longest start of `word` that fits `width` columns (at least one character), the rest, and its width. */
function cut(word: string, width: number): [string, string, number] {
  let used = 0;
  let i = 0;
  for (const ch of word) {
    const w = charWidth(ch.codePointAt(0)!);
    if (used + w > width && i > 0) break;
    used += w;
    i += ch.length;
  }
  return [word.slice(0, i), word.slice(i), used];
}

/**
 * Splits text into lines of at most `width` columns at blanks (kept inside a line); a longer word is cut, not dropped.
 */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    let current = '';
    let used = 0;
    const parts = line.split(/([ \t]+)/); // word, blanks, word, …
    for (let k = 0; k < parts.length; k += 2) {
      const word = parts[k]!;
      const gap = k === 0 ? '' : parts[k - 1]!;
      let w = textWidth(word);
      if (used + gap.length + w <= width || (used === 0 && word === '')) {
        current += gap + word;
        used += gap.length + w;
        continue;
      }
      if (used > 0) lines.push(current);
      let rest = word;
      while (w > width) {
        const [head, tail, headWidth] = cut(rest, width);
        lines.push(head);
        rest = tail;
        w -= headWidth;
      }
      current = rest;
      used = w;
    }
    lines.push(current);
  }
  return lines;
}

export function renderTable(spec: TableSpec, rows: readonly TableRow[]): string {
  const border = spec.borderStyle ?? ((s: string) => s);
  const all: TableRow[] = spec.head
    ? [spec.head.map((h) => (spec.headStyle ? spec.headStyle(h) : h)), ...rows]
    : [...rows];
  const columns = Math.max(spec.widths?.length ?? 0, maxOf(all.map((r) => ('span' in r ? 1 : r.length))));
  const natural = (c: number): number => {
    let widest = 0;
    for (const r of all)
      if (!('span' in r)) for (const l of (r[c] ?? '').split('\n')) widest = Math.max(widest, textWidth(l));
    return widest;
  };
  const widths = spec.widths ? spec.widths.map((w) => w - 2) : Array.from({ length: columns }, (_, c) => natural(c));
  const full = widths.reduce((a, b) => a + b + 3, -3);
  const cellLines = (text: string, width: number): string[] => (spec.widths ? wrapText(text, width) : text.split('\n'));
  const pad = (line: string, width: number): string => line + ' '.repeat(Math.max(0, width - textWidth(line)));
  // A line between two rows: a joint where both have column boundaries, half of one where only one has.
  const splits = (r: TableRow | null): boolean => r !== null && !('span' in r);
  const rule = (left: string, right: string, above: TableRow | null, below: TableRow | null): string => {
    const up = splits(above);
    const down = splits(below);
    const joint = up && down ? '┼' : up ? '┴' : down ? '┬' : '─';
    return border(left + widths.map((w) => '─'.repeat(w + 2)).join(joint) + right);
  };
  const v = border('│');
  const out: string[] = [];
  all.forEach((row, i) => {
    out.push(i === 0 ? rule('┌', '┐', null, row) : rule('├', '┤', all[i - 1]!, row));
    if ('span' in row) {
      for (const line of cellLines(row.span, full)) out.push(`${v} ${pad(line, full)} ${v}`);
      return;
    }
    const cells = widths.map((w, c) => cellLines(row[c] ?? '', w));
    const height = maxOf(cells.map((l) => l.length));
    for (let k = 0; k < height; k++)
      out.push(`${v}${cells.map((l, c) => ` ${pad(l[k] ?? '', widths[c]!)} `).join(v)}${v}`);
  });
  if (all.length > 0) out.push(rule('└', '┘', all.at(-1)!, null));
  return out.join('\n');
}
