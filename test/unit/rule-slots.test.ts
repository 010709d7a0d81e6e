// RuleSlots (src/model/rule-slots.ts) keeps a value per rule by the rule's line: what it holds
// must be what a Map keyed by the rule object would hold, whatever the lines are (two dumps
// with the same lines, rules sharing a line, lines far apart, lines that are not slots at all).

import { describe, expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import type { Rule } from '../../src/model/dump.js';
import { RuleSlots } from '../../src/model/rule-slots.js';

const rulesOf = (text: string, family: 'ipv4' | 'ipv6' = 'ipv4'): Rule[] =>
  parseSave(text, { file: 't', family }).tables.flatMap((t) => t.chains.flatMap((c) => c.rules));

const save = (rules: readonly string[]): string =>
  ['*filter', ':INPUT ACCEPT [0:0]', ...rules, 'COMMIT', ''].join('\n');

/** Sets every rule (value: its place in `rules`), then reads every rule and one never set, against a Map. */
function agrees(rules: readonly Rule[], stranger: Rule): void {
  const slots = new RuleSlots<number>();
  const map = new Map<Rule, number>();
  rules.forEach((r, i) => {
    slots.set(r, i);
    map.set(r, i);
  });
  for (const r of rules) {
    expect(slots.get(r)).toBe(map.get(r));
    expect(slots.has(r)).toBe(true);
  }
  expect(slots.get(stranger)).toBeUndefined();
  expect(slots.has(stranger)).toBe(false);
}

describe('RuleSlots', () => {
  const v4 = rulesOf(save(['-A INPUT -i virbr0 -j ACCEPT', '-A INPUT -i virbr1 -j ACCEPT', '-A INPUT -j DROP']));
  const v6 = rulesOf(save(['-A INPUT -i virbr0 -j ACCEPT', '-A INPUT -i virbr1 -j ACCEPT']), 'ipv6');
  const stranger = rulesOf(save(['-A INPUT -j REJECT']))[0]!;

  it('finds the rules of one dump, and not a rule of another dump on the same line', () => {
    agrees(v4, stranger);
    expect(stranger.line).toBe(v4[0]!.line);
  });

  it('keeps two dumps whose rules share their lines apart', () => {
    expect(v6.map((r) => r.line)).toEqual(v4.slice(0, 2).map((r) => r.line));
    agrees([...v4, ...v6], stranger);
  });

  it('keeps more dumps on the same lines than it has pages for', () => {
    const many = Array.from({ length: 7 }, () => rulesOf(save(['-A INPUT -j ACCEPT', '-A INPUT -j DROP']))).flat();
    agrees(many, stranger);
  });

  it('keeps rules that share one line (a line with -s a,b makes two) and rules of no real line', () => {
    const pair = rulesOf(save(['-A INPUT -s 10.0.0.1,10.0.0.2 -j ACCEPT']));
    expect(pair).toHaveLength(2);
    expect(pair[0]!.line).toBe(pair[1]!.line);
    const odd = [-1, 0.5, Number.MAX_SAFE_INTEGER + 2, NaN].map((line) => ({ ...v4[0]!, line }));
    agrees([...pair, ...odd], stranger);
  });

  it('keeps a rule far past the others, and rules set out of line order', () => {
    const far = { ...v4[1]!, line: 10_000_000 };
    const back = [...v4].reverse();
    agrees([...back, far, { ...v4[2]!, line: 200_000 }, { ...v4[0]!, line: 70_000 }], stranger);
  });

  it('gives a rule set twice its last value', () => {
    const slots = new RuleSlots<string>();
    slots.set(v4[0]!, 'first');
    slots.set(v4[0]!, 'second');
    expect(slots.get(v4[0]!)).toBe('second');
  });
});
