// A seeded mutator over real files, for the fuzz tests: the same seed gives the same mutants on
// every machine, and each mutant says which steps made it (printed when a check fails, so a
// failure is reproduced by its seed). Mutations work on lines and on words, the units the
// grammars read, plus the hostile shapes that found bugs before (nesting, blank runs, lone CR,
// unclosed quotes, long lines, control bytes).

/** A deterministic random source (mulberry32). */
export interface Random {
  /** A number in [0, 1). */
  readonly next: () => number;
  /** An integer in [0, n). */
  readonly int: (n: number) => number;
  readonly pick: <T>(items: readonly T[]) => T;
}

export function seeded(seed: number): Random {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { next, int, pick: (items) => items[int(items.length)]! };
}

/** Words worth putting in: boundaries the kernel checks, and characters grammars treat specially. */
export const HOSTILE_WORDS: readonly string[] = [
  '0',
  '-1',
  '65535',
  '65536',
  '99999',
  '4294967296',
  '0x',
  '1:',
  ':4',
  '4:4',
  '1.2.3.4/33',
  '::/129',
  '255.0.255.0',
  '!',
  '!!',
  '-j',
  '-g',
  '-m',
  '-A',
  '-p',
  '--',
  '"',
  '"\\"',
  "'",
  '\\',
  '#',
  ':',
  ',',
  '[',
  ']',
  '[0:0]',
  '(',
  ')',
  '=',
  '<',
  '>',
  '&',
  '&amp;',
  '<!--',
  ']]>',
  '\t',
  '\u00a0',
  '\u200b',
  'é',
  '中文',
  '\u001b[31m',
  '\u0000',
  '\r',
  'COMMIT',
  '*filter',
];

/** Largest mutant made (characters): growth beyond it is skipped. */
const MAX_MUTANT = 8 * 1024 * 1024;

type Mutation = (text: string, r: Random, words: readonly string[]) => [string, string];

const lines = (text: string): string[] => text.split('\n');
const where = (r: Random, n: number): number => (n === 0 ? 0 : r.int(n));

/** Splits a line into words and the blanks between them (joined back unchanged). */
function words(line: string): string[] {
  return line.split(/([ \t]+)/);
}

const MUTATIONS: Readonly<Record<string, Mutation>> = {
  'delete line': (text, r) => {
    const ls = lines(text);
    const i = where(r, ls.length);
    ls.splice(i, 1);
    return [ls.join('\n'), `delete line ${i + 1}`];
  },
  'duplicate line': (text, r) => {
    const ls = lines(text);
    const i = where(r, ls.length);
    ls.splice(i, 0, ls[i] ?? '');
    return [ls.join('\n'), `duplicate line ${i + 1}`];
  },
  'swap lines': (text, r) => {
    const ls = lines(text);
    const i = where(r, ls.length);
    const j = where(r, ls.length);
    [ls[i], ls[j]] = [ls[j]!, ls[i]!];
    return [ls.join('\n'), `swap lines ${i + 1} and ${j + 1}`];
  },
  truncate: (text, r) => {
    const at = where(r, text.length);
    return [text.slice(0, at), `truncate at offset ${at}`];
  },
  'delete word': (text, r) => {
    const ls = lines(text);
    const i = where(r, ls.length);
    const ws = words(ls[i] ?? '');
    const k = where(r, ws.length);
    ws.splice(k, 1);
    ls[i] = ws.join('');
    return [ls.join('\n'), `delete word ${k} of line ${i + 1}`];
  },
  'replace word': (text, r, dict) => {
    const ls = lines(text);
    const i = where(r, ls.length);
    const ws = words(ls[i] ?? '');
    const k = where(r, ws.length);
    const w = r.pick(dict);
    ws[k] = w;
    ls[i] = ws.join('');
    return [ls.join('\n'), `replace word ${k} of line ${i + 1} with ${JSON.stringify(w)}`];
  },
  'insert word': (text, r, dict) => {
    const ls = lines(text);
    const i = where(r, ls.length);
    const ws = words(ls[i] ?? '');
    const k = where(r, ws.length + 1);
    const w = r.pick(dict);
    ws.splice(k, 0, w, ' ');
    ls[i] = ws.join('');
    return [ls.join('\n'), `insert ${JSON.stringify(w)} before word ${k} of line ${i + 1}`];
  },
  'duplicate word': (text, r) => {
    const ls = lines(text);
    const i = where(r, ls.length);
    const ws = words(ls[i] ?? '');
    const k = where(r, ws.length);
    ws.splice(k, 0, ws[k] ?? '', ' ');
    ls[i] = ws.join('');
    return [ls.join('\n'), `duplicate word ${k} of line ${i + 1}`];
  },
  'flip character': (text, r) => {
    const at = where(r, text.length);
    const c = String.fromCharCode(r.int(0x80));
    return [text.slice(0, at) + c + text.slice(at + 1), `character at offset ${at} becomes ${JSON.stringify(c)}`];
  },
  'lone CRs': (text) => [text.replace(/\r?\n/g, '\r'), 'every line ending a lone CR'],
  CRLF: (text) => [text.replace(/\r?\n/g, '\r\n'), 'every line ending CRLF'],
  'blank lines': (text, r) => {
    const n = 1 + r.int(2000);
    return [`${'\n'.repeat(n)}${text}`, `${n} blank lines first`];
  },
  'blank run': (text, r) => {
    const at = where(r, text.length);
    const n = 1 + r.int(20_000);
    return [text.slice(0, at) + ' \t'.repeat(n) + text.slice(at), `${n * 2} blanks at offset ${at}`];
  },
  nesting: (text, r) => {
    const at = where(r, text.length);
    const [open, close] = r.pick([
      ['(', ')'],
      ['[', ']'],
      ['<a>', '</a>'],
      ['{', '}'],
    ] as const);
    const n = 1 + r.int(50_000);
    return [
      text.slice(0, at) + open.repeat(n) + close.repeat(r.int(2) * n) + text.slice(at),
      `${n} × ${open} at offset ${at}`,
    ];
  },
  'unclosed quote': (text, r) => {
    const at = where(r, text.length);
    const n = 1 + r.int(20_000);
    return [
      `${text.slice(0, at)}"${'\\"'.repeat(n)}${text.slice(at)}`,
      `a quote and ${n} escaped quotes at offset ${at}`,
    ];
  },
  'long line': (text, r) => {
    const ls = lines(text);
    const i = where(r, ls.length);
    const n = 1 + r.int(200_000);
    ls[i] = `${ls[i] ?? ''}${'x'.repeat(n)}`;
    return [ls.join('\n'), `${n} characters added to line ${i + 1}`];
  },
  'repeat lines': (text, r) => {
    const ls = lines(text);
    const i = where(r, ls.length);
    const n = 1 + r.int(Math.max(1, Math.min(5_000, Math.floor(MAX_MUTANT / ((ls[i]?.length ?? 0) + 1)))));
    ls.splice(i, 0, ...Array.from({ length: n }, () => ls[i] ?? ''));
    return [ls.join('\n'), `line ${i + 1} repeated ${n} times`];
  },
};

/** The mutations' names, for a caller that wants only some. */
export const MUTATION_NAMES: readonly string[] = Object.keys(MUTATIONS);

export interface Mutant {
  readonly text: string;
  /** What was done, in order (for the failure message). */
  readonly steps: readonly string[];
}

export interface MutateOptions {
  /** How many mutations in a row (default 1 to 3). */
  readonly rounds?: number;
  /** Words that replace or join the text's own (default HOSTILE_WORDS and the text's words). */
  readonly dictionary?: readonly string[];
  /** Only these mutations (default all). */
  readonly only?: readonly string[];
}

/** One mutant of `text`, made by `r`. */
export function mutate(text: string, r: Random, options: MutateOptions = {}): Mutant {
  const own = text.split(/\s+/).filter((w) => w !== '' && w.length < 40);
  const dictionary = options.dictionary ?? [...HOSTILE_WORDS, ...own.slice(0, 2000)];
  const names = options.only ?? MUTATION_NAMES;
  const rounds = options.rounds ?? 1 + r.int(3);
  let out = text;
  const steps: string[] = [];
  for (let i = 0; i < rounds; i++) {
    const name = r.pick(names);
    const [next, step] = MUTATIONS[name]!(out, r, dictionary);
    if (next.length > MAX_MUTANT) continue; // a long line repeated: bigger than a test should build
    out = next;
    steps.push(step);
  }
  return { text: out, steps };
}

// ---------------------------------------------------------------------------------------------
// One small change to one rule or chain line of an iptables-save dump (a word dropped, doubled,
// swapped or replaced by a value on the edge of what iptables accepts, a '!' added, a number
// nudged): the result is sometimes still a dump the kernel loads and sometimes not (the kernel
// mutation test, test/kernel/mutated-dumps.test.ts).

/** Values that sit on the edges of what iptables accepts. */
const TRICKY = [
  '0',
  '65535',
  '65536',
  '-1',
  '0x10',
  '010',
  '08',
  '1:',
  ':2',
  '5:4',
  '255',
  '256',
  '!',
  '""',
  'x',
  '10.1',
  '10.0.0.0/33',
  '::/0',
  'ALL',
  'NEW,',
  'ssh',
  'DROP',
  'RETURN',
  '--',
  '-x',
];

export interface RuleMutant {
  readonly text: string;
  /** What was changed, for messages. */
  readonly change: string;
}

export function mutateRule(text: string, seed: number): RuleMutant {
  const r = seeded(seed);
  const random = r.next;
  const pick = r.pick;
  const lines = text.split('\n');
  const candidates = lines.map((l, i) => ({ l, i })).filter(({ l }) => l.startsWith('-A ') || l.startsWith(':'));
  if (candidates.length === 0) return { text, change: 'none' };
  const { l, i } = pick(candidates);
  const words = l.split(' ');
  const at = 1 + Math.floor(random() * Math.max(1, words.length - 1));
  let change: string;
  switch (Math.floor(random() * 7)) {
    case 0:
      change = `dropped '${words[at]}'`;
      words.splice(at, 1);
      break;
    case 1:
      change = `doubled '${words[at]}'`;
      words.splice(at, 0, words[at] ?? '');
      break;
    case 2:
      change = `swapped '${words[at]}' and '${words[at + 1]}'`;
      if (at + 1 < words.length) [words[at], words[at + 1]] = [words[at + 1]!, words[at]!];
      break;
    case 3: {
      const v = pick(TRICKY);
      change = `'${words[at]}' → '${v}'`;
      words[at] = v;
      break;
    }
    case 4: {
      const options = words.map((w, j) => ({ w, j })).filter(({ w }) => w.startsWith('-') && w !== '-A');
      const o = options.length > 0 ? pick(options) : { w: words[at], j: at };
      change = `'!' before '${o.w}'`;
      words.splice(o.j, 0, '!');
      break;
    }
    case 5: {
      const nums = words.map((w, j) => ({ w, j })).filter(({ w }) => /^\d+$/.test(w));
      if (nums.length === 0) {
        change = 'truncated';
        words.splice(at);
        break;
      }
      const n = pick(nums);
      const v = String(Number(n.w) + (random() < 0.5 ? -1 : 1) * (random() < 0.5 ? 1 : 65536));
      change = `'${n.w}' → '${v}'`;
      words[n.j] = v;
      break;
    }
    default:
      change = 'truncated';
      words.splice(at);
  }
  lines[i] = words.join(' ');
  return { text: lines.join('\n'), change: `line ${i + 1}: ${change}` };
}
