// Input errors carry the place they were found, printed as `FILE:LINE:COL: message`.

/**
 * A message quotes what it found: a long run of input is cut to its start and its length, so the error stays a line.
 */
function clipped(message: string): string {
  if (message.length < 400) return message;
  const out: string[] = [];
  let at = 0;
  // Word by word (a pattern like /\S{200,}/ would retry every start inside a long run).
  for (const m of message.matchAll(/\s+/g)) {
    out.push(clipWord(message.slice(at, m.index)), m[0]);
    at = m.index + m[0].length;
  }
  out.push(clipWord(message.slice(at)));
  return out.join('');
}

function clipWord(word: string): string {
  return word.length < 200 ? word : `${word.slice(0, 80)}…(${word.length} characters)`;
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
