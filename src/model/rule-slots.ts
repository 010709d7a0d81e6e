// Values kept for the rules of dumps, found by the rule's line instead of by hashing the rule
// object: a dump holds at most one rule a line, so each line is one slot of an array. Filling a
// Map with the 110,000 rules of a large dump took its audit ~40 ms on this project's machine;
// an array indexed by line takes a few. Rules of another dump on the same line (an ip6tables-save
// beside an iptables-save) take the next page of slots; rules that share a line within one dump
// (a derived rule, a test's), or sit far past the rules seen so far, are kept in a Map instead, so
// the slots never outnumber the rules by more than a bounded gap.

import type { Rule } from './dump.js';

/** Pages of slots before the rest go to the Map: one per dump of a host (IPv4, IPv6) and some to spare. */
const PAGES = 4;
/** How far past the slots a rule's line may be and still get one (the rest go to the Map). */
const GAP = 1 << 16;

interface Page<V> {
  readonly rules: Array<Rule | undefined>;
  readonly values: Array<V | undefined>;
}

export class RuleSlots<V> {
  private readonly pages: Array<Page<V>> = [];
  private others: Map<Rule, V> | null = null;

  set(rule: Rule, value: V): void {
    const line = rule.line;
    if (Number.isSafeInteger(line) && line >= 0) {
      for (const page of this.pages) if (this.place(page, rule, line, value)) return;
      if (this.pages.length < PAGES) {
        const page: Page<V> = { rules: [], values: [] };
        this.pages.push(page);
        if (this.place(page, rule, line, value)) return;
      }
    }
    (this.others ??= new Map()).set(rule, value);
  }

  get(rule: Rule): V | undefined {
    const line = rule.line;
    for (const page of this.pages) if (page.rules[line] === rule) return page.values[line];
    return this.others?.get(rule);
  }

  has(rule: Rule): boolean {
    const line = rule.line;
    for (const page of this.pages) if (page.rules[line] === rule) return true;
    return this.others?.has(rule) ?? false;
  }

  /** Puts the value in the page's slot for the line when that slot is free or the rule's; false when it is not. */
  private place(page: Page<V>, rule: Rule, line: number, value: V): boolean {
    const { rules, values } = page;
    if (line < rules.length) {
      const at = rules[line];
      if (at !== undefined && at !== rule) return false;
      rules[line] = rule;
      values[line] = value;
      return true;
    }
    if (line - rules.length > GAP) return false;
    // Filled up to the line, never with holes: the arrays stay packed, each slot a plain load.
    while (rules.length < line) {
      rules.push(undefined);
      values.push(undefined);
    }
    rules.push(rule);
    values.push(value);
    return true;
  }
}
