// How iptables 1.8.9 prints each option after a round trip through the kernel: the
// canonical spelling virtables writes, compares and explains. The printing itself is the
// extensions' data (src/xt, what each save function prints), computed once when the rule was
// read; an extension virtables does not know is printed as written.

import type { Arg, Match, Option, Target } from '../model/dump.js';
import { printOption } from '../xt/check.js';

/** A value printed as the input had it: quoted values keep quotes, with `"` and `\` escaped. */
function asWritten(arg: Arg): string {
  return arg.quoted ? `"${arg.value.replace(/["\\]/g, (c) => `\\${c}`)}"` : arg.value;
}

/** Options of an extension virtables does not know, as written. */
function verbatim(options: readonly Option[]): string {
  return options.map((o) => printOption({ name: o.name, negated: o.negated, values: o.args.map(asWritten) })).join(' ');
}

/** The options of a match as iptables 1.8.9 prints them ('' for none). */
export function canonicalMatchText(match: Match): string {
  return match.canonical ?? verbatim(match.options);
}

/** The options of a target as iptables 1.8.9 prints them ('' for none). */
export function canonicalTargetText(target: Target): string {
  return target.canonical ?? verbatim(target.options);
}
