// JSON shapes of the model for `--format json` (documented in docs/json.md).

import { formatCidr } from '../model/cidr.js';
import type { Dump, Option, Rule } from '../model/dump.js';
import { canonicalRuleText, WRITE_CHUNK } from '../write/save.js';

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

/**
 * A list whose items are made (and written) one at a time: writeJson never holds them all, their
 * objects or their text; materialised, it is the plain array JSON.stringify would see.
 */
class Items<T> {
  constructor(
    readonly list: readonly T[],
    readonly make: (item: T) => unknown,
  ) {}
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

function materialised(value: unknown): unknown {
  if (value instanceof Items) return value.list.map((item) => materialised(value.make(item)));
  if (!holdsItems(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, materialised(v)]));
}

/** Is this a plain object with Items among its values (the only kind writeJson takes apart)? */
function holdsItems(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.values(value).some((v) => v instanceof Items);
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
  let chunk = '';
  const put = (text: string): void => {
    if (chunk.length + text.length > WRITE_CHUNK && chunk !== '') {
      write(chunk);
      chunk = '';
    }
    chunk += text;
  };
  writeJson(dumpJsonParts(dump), '', put);
  put('\n');
  write(chunk);
}

/** `value` as JSON.stringify(value, null, 2) writes it at this indent, Items and their holders taken apart. */
function writeJson(value: unknown, indent: string, put: (text: string) => void): void {
  const inner = `${indent}  `;
  if (value instanceof Items) {
    if (value.list.length === 0) return put('[]');
    put('[');
    for (let i = 0; i < value.list.length; i++) {
      put(i === 0 ? `\n${inner}` : `,\n${inner}`);
      writeJson(value.make(value.list[i]), inner, put);
    }
    return put(`\n${indent}]`);
  }
  if (!holdsItems(value)) {
    // JSON text never holds a raw line break (a string's is written \n): each one starts a line to indent.
    const text = JSON.stringify(value, null, 2);
    return put(indent === '' ? text : text.replaceAll('\n', `\n${indent}`));
  }
  // As JSON.stringify: members whose value it leaves out (undefined, functions) are left out; there is always one.
  let first = true;
  put('{');
  for (const [key, member] of Object.entries(value)) {
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    put(`${first ? '' : ','}\n${inner}${JSON.stringify(key)}: `);
    first = false;
    writeJson(member, inner, put);
  }
  put(`\n${indent}}`);
}
