// What the nft text parser (nft.ts) hands to the builders: blocks of lines of items, with positions.

import type { IToken } from './chevrotain.js';

export interface ItemAst {
  readonly kind: 'word' | 'quoted' | 'op' | 'comma' | 'group';
  /** The word, the string without its quotes, the operator, or `{` / `(` for a group. */
  readonly image: string;
  readonly line: number;
  readonly col: number;
  /** Offsets of the item's first character and just past its last (a group: its closing bracket). */
  readonly start: number;
  readonly end: number;
  /** A group's items. */
  readonly items: readonly ItemAst[];
}

export interface LineAst {
  readonly items: ItemAst[];
  readonly line: number;
  readonly col: number;
}

export interface BlockAst {
  /** The words before the block's name: `chain`, `set`, `map`, `counter`, `ct helper`, `flowtable`, … */
  readonly keyword: IToken[];
  readonly name: IToken;
  readonly lines: LineAst[];
  readonly start: number;
  readonly end: number;
}

export interface TableAst {
  readonly token: IToken;
  readonly family: IToken | null;
  readonly name: IToken;
  readonly blocks: BlockAst[];
  /** Table-level lines (`flags dormant`, `comment "…"`). */
  readonly lines: LineAst[];
  readonly close: IToken;
}
