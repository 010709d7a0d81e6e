// What an iptables extension (match or target) is, as data: its options (names, aliases,
// value types, which may be negated, required, repeated, excluded or needed together), the
// families, tables, chains and protocols the kernel allows it in, and how iptables-save 1.8.9
// prints it back. The extensions themselves are in matches.ts and targets.ts.

import type { Family } from '../model/dump.js';
import { saveString, type Samples, type Val, type ValueType } from './values.js';

export type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

export interface XtOption {
  /** The long name save prints, without `--`. */
  readonly name: string;
  /** Other accepted spellings (`source-port` for `sport`). */
  readonly aliases?: readonly string[];
  /** Null: the option takes no value. */
  readonly type: ValueType | null;
  /** The value may be left out (taken only when the next word does not start with `-` or `!`). */
  readonly optionalValue?: boolean;
  /** A second value word (`--tcp-flags MASK COMP`, `--match-set NAME FLAGS`); it may not start with `-` or `!`. */
  readonly second?: ValueType;
  /** `!` allowed; 'ignored': accepted and dropped (old-style parsers that never look at it). */
  readonly invert?: boolean | 'ignored';
  readonly required?: boolean;
  /** May be given more than once (policy's per-element options). */
  readonly multi?: boolean;
  /** Options that may not be given together with this one. */
  readonly excl?: readonly string[];
  /** Options this one needs. */
  readonly also?: readonly string[];
  /** Samples for generated kernel cases, when the type's own do not fit. */
  readonly samples?: Samples;
  /** Save prints the value through xtables_save_string (quoted unless `[A-Za-z0-9_-]+`). */
  readonly quoted?: boolean;
  /** Not offered in generated cases (needs an object the namespace lacks: an ipset, a cgroup, …). */
  readonly untestable?: string;
}

/** One given option after parsing: its value(s), negation and where it was. */
export interface Given {
  readonly option: XtOption;
  readonly negated: boolean;
  readonly val: Val;
  readonly second?: Val;
  readonly col: number;
  /** Every use, in order (multi options). */
  readonly all: readonly Given[];
}

export type GivenMap = ReadonlyMap<string, Given>;

/** One option as iptables-save prints it: name (with dashes), negation, values (already quoted as needed). */
export interface PrintedOption {
  readonly name: string;
  readonly negated: boolean;
  readonly values: readonly string[];
}

/** What a rule offers an extension's rule-level checks. */
export interface RuleView {
  readonly family: Family;
  readonly table: string;
  /** `-p`, as a protocol number, and whether negated (null: no -p). */
  readonly protocol: { readonly n: number; readonly negated: boolean; readonly col: number } | null;
  /** The rule's other matches, by name, with their given options (validated ones only). */
  readonly matches: ReadonlyArray<{ readonly name: string; readonly given: GivenMap | null }>;
  readonly target: { readonly name: string; readonly given: GivenMap | null } | null;
  readonly inInterface: boolean;
  readonly outInterface: boolean;
}

export interface Extension {
  readonly name: string;
  readonly kind: 'match' | 'target';
  /** Only this family has it (libipt_*, libip6t_*); absent: both. */
  readonly family?: Family;
  /** The revision iptables 1.8.9 uses on this kernel (documentation). */
  readonly revision?: number;
  /** The library that ships it. */
  readonly lib: string;
  /** The tables the kernel allows it in (absent: all). */
  readonly tables?: readonly string[];
  /** The hooks (built-in chains) the kernel allows it from (absent: all). */
  readonly hooks?: readonly Hook[];
  /** `-p` must be one of these (not negated) — the kernel's .proto / checkentry. */
  readonly protocols?: readonly string[];
  readonly options: readonly XtOption[];
  /** Cross-option rules not expressible as excl/also/required: the reason the kernel or iptables refuses, or null. */
  readonly check?: (given: GivenMap, family: Family) => string | null;
  /** Rule-level rules (other matches, -p, -i/-o): the reason, or null. */
  readonly ruleCheck?: (given: GivenMap, rule: RuleView, at: number) => string | null;
  /** Rules that depend on the built-in chains the rule is reached from (kernel checkentry's hook_mask). */
  readonly hookCheck?: (given: GivenMap, hooks: ReadonlySet<Hook>) => string | null;
  /**
   * Kernel objects rules share by name (a hashlimit table): rules naming the same one must agree
   * on `value`, or the kernel refuses the later rule.
   */
  readonly shared?: {
    readonly key: (given: GivenMap) => string;
    readonly value: (given: GivenMap) => string;
    readonly why: string;
  };
  /** How save prints it (absent: each given option in table order, `[!] --name value`). */
  readonly save?: (given: GivenMap, family: Family) => PrintedOption[];
  /** Printed instead of the written name (`NOTRACK` is saved as `CT --notrack`). */
  readonly savedAs?: string;
  /** Why some options are not exercised in generated cases; context lines a case needs (an ipset, a RATEEST). */
  readonly caseContext?: CaseContext;
  /** A one-line description for docs and --help-like listings. */
  readonly summary: string;
}

/** What generated kernel cases need around one rule of this extension. */
export interface CaseContext {
  /** Extra rule options making a minimal valid rule (`-p tcp --syn` for TCPMSS). */
  readonly prefix?: string;
  /** Options that always go with it (its required options, valid values). */
  readonly base?: string;
  /** Table and chain to test in (default: the first allowed). */
  readonly table?: string;
  readonly chain?: string;
  /** Rules the case needs before it, in the same chain (a RATEEST estimator for -m rateest). */
  readonly before?: readonly string[];
  /** Its objects are shared by both families (IDLETIMER labels): the cases run one family at a time. */
  readonly serial?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Small builders that keep the tables in matches.ts and targets.ts readable.

export function opt(name: string, type: ValueType | null, more: Omit<XtOption, 'name' | 'type'> = {}): XtOption {
  return { name, type, ...more };
}

/** The default save: every given option in table order, `[!] --name value [second]`. */
export function saveInOrder(ext: Pick<Extension, 'options'>, given: GivenMap): PrintedOption[] {
  const out: PrintedOption[] = [];
  for (const o of ext.options) {
    const g = given.get(o.name);
    if (!g) continue;
    for (const one of o.multi ? g.all : [g]) out.push(printedOf(one));
  }
  return out;
}

export function printedOf(g: Given, name = g.option.name, values?: readonly string[]): PrintedOption {
  const first = g.option.quoted ? saveString(g.val.text) : g.val.text;
  const vals = values ?? (g.option.type === null ? [] : g.second ? [first, g.second.text] : [first]);
  return { name: `--${name}`, negated: g.negated, values: vals };
}

export function printedFlag(name: string, negated = false, values: readonly string[] = []): PrintedOption {
  return { name: `--${name}`, negated, values };
}
