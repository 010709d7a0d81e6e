// The message of the InputError a piece of code throws (FILE:LINE:COL: …), for exact-message tests.

import { InputError } from '../../src/model/errors.js';

export function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
  throw new Error('expected an InputError');
}
