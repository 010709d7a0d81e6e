// How text output is coloured: a set of painters, plain for pipes. The CLI picks one per stream
// (cli/style.ts); renderers below it take one, so they never look at the terminal themselves.

export interface Style {
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly red: (s: string) => string;
  readonly green: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly cyan: (s: string) => string;
  readonly enabled: boolean;
}
