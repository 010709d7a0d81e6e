// Reading one extension's options the way libxtables does (xtables_option_parse and
// xtables_options_fcheck: once only, no `!` where not allowed, the value's type, required,
// excluded and needed-together options, then the extension's own final check), and printing
// them as iptables-save 1.8.9 does. A pure function of the extension, the family and the
// option words, memoised: dumps repeat the same option groups thousands of times.

import type { Arg, Family } from '../model/dump.js';
import type { Extension, Given, GivenMap, PrintedOption, XtOption } from './spec.js';
import { saveInOrder } from './spec.js';
import { memo } from '../model/memo.js';

/** A value as the rule gave it, with its column. */
export interface RawArg extends Arg {
  readonly col: number;
}

/** One option as the rule gave it to an extension (after getopt-style name resolution). */
export interface RawXtOption {
  readonly option: XtOption;
  readonly negated: boolean;
  readonly args: readonly RawArg[];
  /** Column of the option name. */
  readonly col: number;
}

export interface XtProblem {
  readonly col: number;
  readonly message: string;
}

export type XtResult = XtReading | { readonly ok: false; readonly problem: XtProblem };

/** A reading that passed the checks: one object per distinct reading while the memo keeps it. */
export interface XtReading {
  readonly ok: true;
  readonly ext: Extension;
  readonly given: GivenMap;
  readonly printed: readonly PrintedOption[];
  readonly text: string;
  readonly key: string;
  /** The model parts a reader made from this reading (grammar/iptables-rule.ts), kept with it. */
  parts: object | undefined;
}

/** Where a problem is: the extension itself, one of its options, or one option's value. */
interface Where {
  readonly option: number;
  readonly arg: number;
}
type Cached = XtReading | { readonly ok: false; readonly at: Where | null; readonly message: string };

// A reading is kept from its second use on: the comments a dump writes once each stay young garbage.
const cache = memo<Cached>(1024, { second: true });

function keyOf(ext: Extension, family: Family, raws: readonly RawXtOption[]): string {
  let key = `${family === 'ipv6' ? '6' : '4'}${ext.kind === 'match' ? 'm' : 't'}${ext.name}`;
  for (const r of raws) {
    key += r.negated ? '\u0001!' : '\u0001';
    key += r.option.name;
    for (const a of r.args) key += (a.quoted ? '\u0003' : '\u0002') + a.value;
  }
  return key;
}

/** Reads an extension's options; `col` is where the extension was named (`-m NAME`, `-j NAME`). */
export function checkExtension(ext: Extension, family: Family, raws: readonly RawXtOption[], col: number): XtResult {
  const key = keyOf(ext, family, raws);
  let result = cache.get(key);
  if (result === undefined) {
    result = cache.set(key, checkUncached(ext, family, raws, key));
  }
  if (result.ok) return result;
  const at = result.at;
  const raw = at ? raws[at.option] : undefined;
  const where = raw ? (at!.arg >= 0 ? (raw.args[at!.arg]?.col ?? raw.col) : raw.col) : col;
  return { ok: false, problem: { col: where, message: result.message } };
}

function fail(at: Where | null, message: string): Cached {
  return { ok: false, at, message };
}

function checkUncached(ext: Extension, family: Family, raws: readonly RawXtOption[], key: string): Cached {
  const what = `${ext.name}${ext.kind === 'match' ? '' : ' target'}`;
  const given = new Map<string, Given>();
  const index = new Map<Given, number>();
  for (const [i, raw] of raws.entries()) {
    const o = raw.option;
    const here: Where = { option: i, arg: -1 };
    const previous = given.get(o.name);
    if (previous && !o.multi) return fail(here, `${what}: --${o.name} can only be used once`);
    if (raw.negated && o.invert === undefined) return fail(here, `${what}: --${o.name} cannot be negated with '!'`);
    const expected = o.type === null || (o.optionalValue && raw.args.length === 0) ? 0 : o.second ? 2 : 1;
    if (raw.args.length < expected)
      return fail(
        here,
        `${what}: --${o.name} needs ${expected === 2 ? 'two values' : 'a value'} (${describeValues(o)})`,
      );
    if (raw.args.length > expected) {
      const extra = raw.args[expected]!;
      return fail(
        { option: i, arg: expected },
        `unexpected word '${extra.value}' after ${expected === 0 ? `--${o.name}` : `the value of --${o.name}`} (${expected === 0 ? 'it takes no value' : `it takes ${expected === 2 ? 'two values' : 'one value'}`}; options start with '-')`,
      );
    }
    let val: Given['val'] = { text: '' };
    let second: Given['val'] | undefined;
    if (o.type !== null && expected > 0) {
      const a = raw.args[0]!;
      const v = o.type.parse(a.value, family);
      if (typeof v === 'string') return fail({ option: i, arg: 0 }, `${what}: --${o.name}: ${v}`);
      val = v;
      if (o.second) {
        const b = raw.args[1]!;
        if (b.value.startsWith('-') || b.value.startsWith('!'))
          return fail({ option: i, arg: 1 }, `${what}: --${o.name} needs two values (${describeValues(o)})`);
        const w = o.second.parse(b.value, family);
        if (typeof w === 'string') return fail({ option: i, arg: 1 }, `${what}: --${o.name}: ${w}`);
        second = w;
      }
    }
    const all: Given[] = previous ? [...previous.all] : [];
    const g: Given = { option: o, negated: raw.negated && o.invert === true, val, second, col: raw.col, all };
    all.push(g);
    given.set(o.name, previous ? { ...previous, all } : g);
    index.set(given.get(o.name)!, i);
  }
  const at = (g: Given): Where => ({ option: index.get(g) ?? 0, arg: -1 });
  for (const o of ext.options) {
    const g = given.get(o.name);
    if (!g) {
      if (o.required) return fail(null, `${what}: --${o.name} is required (${describeValues(o)})`);
      continue;
    }
    for (const other of o.excl ?? []) {
      const h = given.get(other);
      if (h) return fail(at(g.col > h.col ? g : h), `${what}: --${o.name} and --${other} cannot be used together`);
    }
    for (const other of o.also ?? []) {
      if (!given.has(other)) return fail(at(g), `${what}: --${o.name} also needs --${other}`);
    }
  }
  const problem = ext.check?.(given, family);
  if (problem) return fail(null, `${what}: ${problem}`);
  const printed = ext.save ? ext.save(given, family) : saveInOrder(ext, given);
  return { ok: true, ext, given, printed, text: printed.map(printOption).join(' '), key, parts: undefined };
}

/** `[! ]--name value…`, as save functions print one option. */
export function printOption(o: PrintedOption): string {
  const head = o.negated ? `! ${o.name}` : o.name;
  return o.values.length > 0 ? `${head} ${o.values.join(' ')}` : head;
}

function describeValues(o: XtOption): string {
  if (o.type === null) return 'no value';
  return o.second ? `${o.type.describe}, then ${o.second.describe}` : o.type.describe;
}
