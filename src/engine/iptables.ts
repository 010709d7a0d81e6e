// Turning an iptables command line into the rule the kernel will hold. The rule options are
// read by the same grammar that reads dumps, so a derived rule and a dumped rule are the same
// model object and print (formatRule) the same canonical text.

import { parseSave } from '../../grammar/iptables-save.js';
import { BUILTIN_CHAINS, type Family, type Rule } from '../model/dump.js';
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
