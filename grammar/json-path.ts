// Where a JSON element sits in its text. JSON.parse keeps no positions, so an error about the
// element at `nftables[5].rule.expr[1]` finds its line and column here: one forward scan that
// descends only along the path and skips everything else (linear, no recursion over the input).

export type JsonPathSegment = string | number;

/** `nftables[5].rule.expr[1]`. */
export function formatJsonPath(path: readonly JsonPathSegment[]): string {
  let out = '';
  for (const s of path) out += typeof s === 'number' ? `[${s}]` : out === '' ? s : `.${s}`;
  return out;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  return i;
}

/** The index just after the string that starts at `i` (a `"`). */
function skipString(text: string, i: number): number {
  i++;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}

/** The index just after the value that starts at `i`. */
function skipValue(text: string, i: number): number {
  if (text[i] === '"') return skipString(text, i);
  if (text[i] !== '{' && text[i] !== '[') {
    while (i < text.length && !',}] \t\n\r'.includes(text[i]!)) i++;
    return i;
  }
  let depth = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      i = skipString(text, i);
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return i;
}

/** The offset of the element at `path`, or of the deepest element on the way to it that exists. */
export function offsetOfJsonPath(text: string, path: readonly JsonPathSegment[]): number {
  let i = skipSpace(text, 0);
  for (const seg of path) {
    if (typeof seg === 'number' && text[i] === '[') {
      let at = skipSpace(text, i + 1);
      for (let k = 0; k < seg && at < text.length && text[at] !== ']'; k++)
        at = skipSpace(text, skipSpace(text, skipValue(text, at)) + 1);
      if (at >= text.length || text[at] === ']') return i;
      i = at;
    } else if (typeof seg === 'string' && text[i] === '{') {
      let at = skipSpace(text, i + 1);
      let found = -1;
      while (at < text.length && text[at] === '"') {
        const end = skipString(text, at);
        const key = text.slice(at + 1, end - 1);
        const colon = skipSpace(text, end);
        const value = skipSpace(text, colon + 1);
        if (key === seg) {
          found = value;
          break;
        }
        at = skipSpace(text, skipValue(text, value));
        if (text[at] === ',') at = skipSpace(text, at + 1);
      }
      if (found < 0) return i;
      i = found;
    } else {
      return i;
    }
  }
  return i;
}

/** 1-based line and column of an offset. */
export function lineColOf(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, col: end - start + 1 };
}

/** `nftables[5].rule.expr[1]` → ['nftables', 5, 'rule', 'expr', 1] (the inverse of formatJsonPath). */
export function parseJsonPath(path: string): JsonPathSegment[] {
  const out: JsonPathSegment[] = [];
  for (const part of path.split('.')) {
    const open = part.indexOf('[');
    out.push(open < 0 ? part : part.slice(0, open));
    for (let i = open; i >= 0; i = part.indexOf('[', i + 1)) out.push(Number(part.slice(i + 1, part.indexOf(']', i))));
  }
  return out.filter((s) => s !== '');
}
