// Big outputs (a 100,000-rule dump as iptables-save prints it, its JSON, its explanation) written
// as they are made, in chunks: the whole text, or every object behind it, is never held at once.
// JSON keeps JSON.stringify's exact text: only lists marked as Items are taken apart, the rest is
// stringify's own.

/** The most one chunk holds (a longer piece goes alone): writeDump's, and every big output's. */
export const WRITE_CHUNK = 64 * 1024;

/** Text put piece by piece, handed to `write` in chunks of at most WRITE_CHUNK characters (a longer piece alone). */
export class Chunks {
  private chunk = '';
  constructor(private readonly write: (chunk: string) => void) {}

  put(text: string): void {
    if (this.chunk.length + text.length > WRITE_CHUNK && this.chunk !== '') {
      this.write(this.chunk);
      this.chunk = '';
    }
    this.chunk += text;
  }

  /** Writes what is left. */
  end(): void {
    if (this.chunk !== '') this.write(this.chunk);
    this.chunk = '';
  }
}

/**
 * A list whose items are made (and written) one at a time: writeJson never holds them all, their
 * objects or their text; materialised, it is the plain array JSON.stringify would see.
 */
export class Items<T> {
  constructor(
    readonly list: readonly T[],
    readonly make: (item: T) => unknown,
  ) {}
}

/** The value with its Items made into arrays: what JSON.stringify of the streamed value's text reads back. */
export function materialised(value: unknown): unknown {
  if (value instanceof Items) return value.list.map((item) => materialised(value.make(item)));
  if (!holdsItems(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, materialised(v)]));
}

/** Is this a plain object with Items among its values (the only kind writeJson takes apart)? */
function holdsItems(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.values(value).some((v) => v instanceof Items);
}

/** JSON.stringify(materialised(value), null, 2) and a line break, handed to `write` in chunks. */
export function writeJsonText(value: unknown, write: (chunk: string) => void): void {
  const out = new Chunks(write);
  writeJson(value, '', out);
  out.put('\n');
  out.end();
}

/** `value` as JSON.stringify(value, null, 2) writes it at this indent, Items and their holders taken apart. */
function writeJson(value: unknown, indent: string, out: Chunks): void {
  const inner = `${indent}  `;
  if (value instanceof Items) {
    if (value.list.length === 0) return out.put('[]');
    out.put('[');
    for (let i = 0; i < value.list.length; i++) {
      out.put(i === 0 ? `\n${inner}` : `,\n${inner}`);
      writeJson(value.make(value.list[i]), inner, out);
    }
    return out.put(`\n${indent}]`);
  }
  if (!holdsItems(value)) {
    // JSON text never holds a raw line break (a string's is written \n): each one starts a line to indent.
    const text = JSON.stringify(value, null, 2);
    return out.put(indent === '' ? text : text.replaceAll('\n', `\n${indent}`));
  }
  // As JSON.stringify: members whose value it leaves out (undefined, functions) are left out; there is always one.
  let first = true;
  out.put('{');
  for (const [key, member] of Object.entries(value)) {
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    out.put(`${first ? '' : ','}\n${inner}${JSON.stringify(key)}: `);
    first = false;
    writeJson(member, inner, out);
  }
  out.put(`\n${indent}}`);
}
