// JSON shapes of the model for `--format json` (documented in docs/json.md).

import { formatCidr } from '../model/cidr.js';
import type { Dump, Option, Rule } from '../model/dump.js';
import { Items, materialised, writeJsonText } from '../write/chunks.js';
import { canonicalRuleText } from '../write/save.js';

const optionJson = (o: Option) => ({ name: o.name, negated: o.negated, values: o.args.map((a) => a.value) });

export function ruleToJson(rule: Rule, family: Dump['family']) {
  return {
    table: rule.table,
    chain: rule.chain,
    line: rule.line,
    text: rule.text,
    canonical: canonicalRuleText(rule, family ?? 'ipv4'),
    counters: rule.counters,
    source: rule.source && { negated: rule.source.negated, address: formatCidr(rule.source) },
    destination: rule.destination && { negated: rule.destination.negated, address: formatCidr(rule.destination) },
    inInterface: rule.inInterface && { negated: rule.inInterface.negated, name: rule.inInterface.name },
    outInterface: rule.outInterface && { negated: rule.outInterface.negated, name: rule.outInterface.name },
    protocol: rule.protocol && { negated: rule.protocol.negated, name: rule.protocol.name },
    fragment: rule.fragment && { negated: rule.fragment.negated },
    matches: rule.matches.map((m) => ({
      name: m.name,
      implicit: m.implicit,
      validated: m.validated !== false,
      options: m.options.map(optionJson),
    })),
    target: rule.target && {
      name: rule.target.name,
      goto: rule.target.goto,
      validated: rule.target.validated !== false,
      options: rule.target.options.map(optionJson),
    },
  };
}

/** A dump's JSON with its tables, chains and rules as Items: dumpToJson materialises it, writeDumpJson streams it. */
function dumpJsonParts(dump: Dump) {
  return {
    file: dump.file,
    family: dump.family,
    comments: dump.comments.map((c) => ({ line: c.pos.line, text: c.text })),
    notes: (dump.notes ?? []).map((n) => ({ line: n.line, col: n.col, kind: n.kind, message: n.message })),
    tables: new Items(dump.tables, (t) => ({
      name: t.name,
      line: t.pos.line,
      chains: new Items(t.chains, (c) => ({
        name: c.name,
        builtin: c.builtin,
        policy: c.policy,
        counters: c.counters,
        line: c.pos?.line ?? null,
        rules: new Items(c.rules, (r) => ruleToJson(r, dump.family)),
      })),
    })),
  };
}

export function dumpToJson(dump: Dump) {
  return materialised(dumpJsonParts(dump));
}

/**
 * JSON.stringify(dumpToJson(dump), null, 2) and a line break, handed to `write` in chunks of about
 * 64 Ki characters at most: a rule's object and text are made when it is written, so a big dump's
 * JSON (some 60 times its size as objects, then as one string) is never held whole.
 */
export function writeDumpJson(dump: Dump, write: (chunk: string) => void): void {
  writeJsonText(dumpJsonParts(dump), write);
}
