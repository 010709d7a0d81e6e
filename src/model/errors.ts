// Input errors carry the place they were found, printed as `FILE:LINE:COL: message`.

export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}:${col}: ${detail}`);
    this.name = 'InputError';
  }
}

/** A command-line mistake (unknown flag, missing argument): exit 2 with the usage hint. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
