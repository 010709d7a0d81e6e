// Turning an iptables command line into the rule the kernel will hold. The rule options are
// read by the same grammar that reads dumps, so a derived rule and a dumped rule are the same
// model object and print (formatRule) the same canonical text.

import { parseSave } from '../../grammar/iptables-save.js';
import {
  assembleRules,
  withHead,
  type HeadValues,
  type RuleItem,
  type TableCheck,
} from '../../grammar/iptables-rule.js';
import { BUILTIN_CHAINS, type Family, type Rule } from '../model/dump.js';
import { memo } from '../model/memo.js';
import type { Command, Effect } from './program.js';
import { why, type Purpose, type WhyContext } from './why.js';

/** Quotes a value for an iptables-restore line (only values with blanks or quotes need it). */
function restoreWord(value: string): string {
  return /^[^\s"']+$/.test(value) ? value : `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

/** The rule `-A CHAIN OPTIONS…` would add to `table`, as the model holds it. */
export function ruleFromOptions(
  table: string,
  chain: string,
  options: readonly string[],
  family: Family = 'ipv4',
): Rule {
  return quickRule(table, chain, options, family) ?? parsedRule(table, chain, options, family);
}

/** The rule read as iptables-restore reads it: a table holding its chain and the one rule. */
function parsedRule(table: string, chain: string, options: readonly string[], family: Family): Rule {
  const builtin = (BUILTIN_CHAINS[table] ?? []).includes(chain);
  const text = [
    `*${table}`,
    ...(builtin ? [] : [`:${chain} - [0:0]`]),
    `-A ${chain} ${options.map(restoreWord).join(' ')}`,
    'COMMIT',
    '',
  ].join('\n');
  const dump = parseSave(text, { file: '<derived rule>', fragment: true, family });
  const rule = dump.tables[0]?.chains.find((c) => c.name === chain)?.rules[0];
  if (!rule) throw new Error(`internal: no rule parsed from ${options.join(' ')}`);
  if (!builtin) readChains.add(table, chain);
  return rule;
}

/** Words the lexer reads as one word each, as written (printable ASCII, no quotes): each is one argv item. */
const PLAIN_WORD = /^[!#-&(-~]+$/;
/** A chain name the lexer reads as a word. */
const CHAIN_NAME = /^[A-Za-z_][\w-]*$/;
/**
 * Tables and user chains whose declaration parseSave read once: the fragment's header needs no reading again. By
 * table, then chain: the engine's own names are looked up as they are, not joined into a new string per rule.
 */
const readChains = {
  byTable: new Map<string, Set<string>>(),
  add(table: string, chain: string): void {
    let chains = this.byTable.get(table);
    if (!chains) this.byTable.set(table, (chains = new Set()));
    chains.add(chain);
  },
  has(table: string, chain: string): boolean {
    return this.byTable.get(table)?.has(chain) ?? false;
  },
};

/**
 * The same rule without building and reading a whole table (an audit of 1,000 networks derives ~20,000): the line's
 * words given to the rule reader as the line reader would cut them. Null where the table's reading could say
 * something more than the rule's (a header not read before, words that need the lexer, a jump the COMMIT checks, an
 * extension limited to some chains in a built-in chain, an error): the whole table is read then.
 */
function quickRule(table: string, chain: string, options: readonly string[], family: Family): Rule | null {
  const builtins = BUILTIN_CHAINS[table];
  if (!builtins) return null;
  const builtin = builtins.includes(chain);
  if (!builtin && !readChains.has(table, chain)) return null;
  if (!CHAIN_NAME.test(chain) || chain === 'COMMIT') return null;
  const prefix = `-A ${chain} `;
  const shape = shapeOf(table, chain, options, family);
  if (shape) {
    const template = templates.get(shape.key);
    const made = template && withHead(template, family, shape.head, lineOf(chain, options));
    if (made) return made;
  }
  const rule = assembledRule(table, chain, options, family, builtins, builtin, prefix);
  if (rule && shape && heads(rule, shape.head)) templates.set(shape.key, rule);
  return rule;
}

/**
 * The rule's line as iptables-save would read it: `-A CHAIN` and the words, as one flat string (a rule keeps it: a
 * concatenation would keep its parts and a node joining them).
 */
function lineOf(chain: string, options: readonly string[]): string {
  return ['-A', chain].concat(options).join(' ');
}

/**
 * The head options whose values differ from network to network (a bridge, a subnet): a rule line with other values
 * there reads as the same rule with another head (withHead), so one reading serves every network's copy.
 */
const HEAD_SLOTS: ReadonlyMap<string, keyof HeadValues> = new Map([
  ['-i', 'in'],
  ['--in-interface', 'in'],
  ['-o', 'out'],
  ['--out-interface', 'out'],
  ['-s', 'source'],
  ['--source', 'source'],
  ['-d', 'destination'],
  ['--destination', 'destination'],
]);
/** Rules read before, by their line with the head values left out (`shapeOf`), while there is room. */
const templates = memo<Rule>(4096);

/**
 * The line's key without its head values, and those values; null when a value could be read as something else (an
 * option, `!`) or a word needs the lexer (quotes, blanks) or a head option is given twice: the line is read whole then.
 */
function shapeOf(
  table: string,
  chain: string,
  options: readonly string[],
  family: Family,
): { key: string; head: HeadValues } | null {
  // The key's words are joined once at the end: a string grown word by word hashes slowly as a memo key.
  const key: string[] = [family, table, chain];
  const head: { -readonly [K in keyof HeadValues]: string } = {};
  for (let i = 0; i < options.length; i++) {
    const word = options[i]!;
    if (!PLAIN_WORD.test(word)) return null;
    const slot = HEAD_SLOTS.get(word);
    if (slot === undefined) {
      key.push(word);
      continue;
    }
    const value = options[i + 1];
    if (value === undefined || head[slot] !== undefined || !PLAIN_WORD.test(value)) return null;
    if (value.startsWith('-') || value.startsWith('!')) return null;
    head[slot] = value;
    key.push(word, '\u0001');
    i++;
  }
  return { key: key.join('\u0000'), head };
}

/** Did the head values read as the rule's head (so another line of the same shape reads as withHead makes it)? */
function heads(rule: Rule, head: HeadValues): boolean {
  return (
    (head.in === undefined || rule.inInterface?.name === head.in) &&
    (head.out === undefined || rule.outInterface?.name === head.out) &&
    (head.source === undefined || rule.source?.written === head.source) &&
    (head.destination === undefined || rule.destination?.written === head.destination)
  );
}

/** The rule the rule reader makes of the line's words, cut as the line reader would cut them. */
function assembledRule(
  table: string,
  chain: string,
  options: readonly string[],
  family: Family,
  builtins: readonly string[],
  builtin: boolean,
  prefix: string,
): Rule | null {
  const items: RuleItem[] = new Array(options.length);
  let col = prefix.length + 1;
  for (let i = 0; i < options.length; i++) {
    const value = options[i]!;
    if (!PLAIN_WORD.test(value)) return null;
    items[i] = { value, quoted: false, col };
    col += value.length + 1;
  }
  const checks: TableCheck[] = [];
  let made: Rule[];
  try {
    made = assembleRules({
      file: '<derived rule>',
      line: builtin ? 2 : 3,
      table,
      chain,
      counters: null,
      items,
      text: lineOf(chain, options),
      family,
      strict: undefined,
      notes: [],
      tableChecks: checks,
    });
  } catch {
    return null;
  }
  const rule = made[0];
  if (made.length !== 1 || !rule) return null;
  // COMMIT's checks of a table holding only this rule: a jump to one of its chains (a built-in one, or its own: a
  // loop), and, in a built-in chain, extensions limited to some chains. A user chain nothing jumps to is reached
  // from no hook, and nothing before this rule shares an object with it.
  const t = rule.target;
  if (t && (t.name === chain || builtins.includes(t.name))) return null;
  if (builtin && checks.length > 0) return null;
  return rule;
}

export function toolOf(family: Family): 'iptables' | 'ip6tables' {
  return family === 'ipv6' ? 'ip6tables' : 'iptables';
}

/** Who a command is for and why: everything but its argv and effect. */
export interface Meta {
  readonly network: string;
  readonly purpose: Purpose;
  readonly context: WhyContext;
  readonly setup?: boolean;
  readonly ignoreErrors?: boolean;
}

export function command(argv: readonly string[], effect: Effect, meta: Meta): Command {
  return {
    argv,
    effect,
    network: meta.network,
    purpose: meta.purpose,
    why: why(meta.purpose, meta.context),
    setup: meta.setup ?? false,
    ignoreErrors: meta.ignoreErrors ?? false,
  };
}
