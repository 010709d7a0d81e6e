// chevrotain, loaded from its single-file bundle. The package entry point pulls in a few
// hundred lodash-es modules (≈0.4 s of start-up); the bundle it ships beside it holds the
// same API and loads in a few milliseconds — and `virtables audit` runs in pre-commit hooks.
// The bundle is not in the package's `exports`, so it is located next to the entry point.

import type * as Chevrotain from 'chevrotain';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const entry = createRequire(import.meta.url).resolve('chevrotain');
const bundle = pathToFileURL(join(dirname(entry), '..', 'chevrotain.min.mjs')).href;
const chevrotain = (await import(bundle)) as typeof Chevrotain;

export const { createToken, EmbeddedActionsParser, CstParser, Lexer, createSyntaxDiagramsCode } = chevrotain;
export type { IToken, TokenType, CstNode, IRecognitionException, ILexingError, ILexingResult } from 'chevrotain';
