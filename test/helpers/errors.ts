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

/** A bench body that runs the input and expects it to be refused (a throw); anything else fails the bench. */
export const refused = (run: () => unknown) => () => {
  try {
    run();
  } catch {
    return;
  }
  throw new Error('expected the input to be refused');
};
