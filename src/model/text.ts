// Decoding input files: refuse binary data with its position instead of guessing.

import { isAscii } from 'node:buffer';
import { InputError } from './errors.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Line and column (1-based) of a byte offset, counting characters as UTF-8 decodes them; LF, CRLF and a lone CR end
 * lines.
 */
function positionOfByte(bytes: Uint8Array, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a || (bytes[i] === 0x0d && bytes[i + 1] !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  const col = new TextDecoder('utf-8').decode(bytes.subarray(lineStart, offset)).length + 1;
  return { line, col };
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** Control characters that make an input binary: C0 but tab, LF, form feed and CR. */
const BINARY = /[\u0000-\u0008\u000b\u000e-\u001f]/;

/**
 * Decodes a text input. NUL bytes, other control characters (except tab, CR, LF, form feed)
 * and invalid UTF-8 are refused as binary data, at the position of the first offending byte.
 * ASCII (every real dump) takes a fast path: a one-byte string, checked by one native regex scan.
 */
export function decodeText(file: string, bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let text: string;
  if (isAscii(buffer)) text = buffer.toString('latin1');
  else {
    try {
      text = decoder.decode(bytes);
    } catch {
      refuseControl(file, bytes);
      const { line, col } = positionOfByte(bytes, Math.max(firstInvalidUtf8(bytes), 0));
      throw new InputError(file, line, col, 'binary data (invalid UTF-8); expected text');
    }
  }
  if (BINARY.test(text)) refuseControl(file, bytes);
  return text;
}

/** Throws at the first control byte, if there is one (a control character is one byte in UTF-8 too). */
function refuseControl(file: string, bytes: Uint8Array): void {
  const at = bytes.findIndex((b) => b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c);
  if (at < 0) return;
  const { line, col } = positionOfByte(bytes, at);
  throw new InputError(
    file,
    line,
    col,
    `binary data (byte 0x${bytes[at]!.toString(16).padStart(2, '0')}); expected text`,
  );
}

/**
 * The first line of a text that is neither blank nor a `#` comment, without its leading blanks ('' when none).
 * One pass over the text: sniffing an input must not backtrack over its blank lines.
 */
export function firstContentLine(text: string): string {
  let i = 0;
  while (i < text.length) {
    let end = i;
    while (end < text.length && text[end] !== '\n' && text[end] !== '\r') end++;
    const line = text.slice(i, end).trimStart();
    if (line !== '' && !line.startsWith('#')) return line;
    i = end + 1;
  }
  return '';
}

/** Control characters a terminal would act on: C0 but tab and line feed, DEL, and C1. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Text safe to print: each control character (an escape sequence's ESC, a CR) shown as \xNN. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Does the text hold a control character (see printable)? */
export function hasControl(text: string): boolean {
  CONTROL.lastIndex = 0;
  return CONTROL.test(text);
}

/**
 * The text with each lone CR (old Mac line ending) made a LF, so that it ends a line for
 * every grammar; same length, so offsets stay. CRLF stays as it is.
 */
export function loneCrAsLf(text: string): string {
  return text.includes('\r') ? text.replace(/\r(?!\n)/g, '\n') : text;
}

/** `3 rules`, `1 entry`, `2 entries`: a count with its noun. */
export function plural(n: number, word: string): string {
  return `${n} ${n === 1 ? word : word.endsWith('y') ? `${word.slice(0, -1)}ies` : `${word}s`}`;
}

/** The first few of a list and how many more (`a, b, c and 997 more`): a message stays readable on a large host. */
export function someOf(items: readonly string[], most = 3): string {
  const shown = items.slice(0, most).join(', ');
  return items.length > most ? `${shown} and ${items.length - most} more` : shown;
}

/** Text for XML and HTML content and attribute values. */
export function xmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
