// Where a character of a token is, from the token's start: the lexers track start positions only
// (smaller tokens), and the few places that need a position inside or at the end of one work it out.

import type { IToken } from './chevrotain.js';
import type { SourcePos } from '../src/model/dump.js';

/** The position of the character `index` code units into a token's image (a CR LF is one line break). */
export function posWithin(token: IToken, index: number): SourcePos {
  const image = token.image;
  let line = token.startLine ?? 1;
  let col = token.startColumn ?? 1;
  for (let i = 0; i < index; i++) {
    const c = image.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && image.charCodeAt(i + 1) !== 0x0a)) {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  return { line, col };
}
