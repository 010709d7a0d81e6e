// Input errors carry the place they were found, printed as `FILE:LINE:COL: message`.

/** A message quotes what it found: a long run of input is cut to its start and its length, so the error stays a line. */
function clipped(message: string): string {
  return message.length < 400 ? message : message.replace(/\S{200,}/g, (w) => `${w.slice(0, 80)}…(${w.length} characters)`);
}

export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly detail: string,
  ) {
    super(clipped(`${file}:${line}:${col}: ${detail}`));
    this.name = 'InputError';
  }
}

/** A command-line mistake (unknown flag, missing argument): exit 2 with the usage hint. */
export class UsageError extends Error {
  constructor(message: string) {
    super(clipped(message));
    this.name = 'UsageError';
  }
}
