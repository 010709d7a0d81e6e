// The canonical iptables-save printer: what `iptables-restore FILE; iptables-save` prints on
// iptables 1.8.9, whatever era the input was written in (1.3.x `-d ! x/255.255.255.0` comes
// out as `! -d x/24`).

import { formatCidr } from '../model/cidr.js';
import type { Chain, Counters, Dump, Family, Rule, Table } from '../model/dump.js';
import { canonicalMatchText, canonicalTargetText } from './canonical.js';
import { Chunks, WRITE_CHUNK } from './chunks.js';
import type { RuleSink } from '../../grammar/iptables-save.js';

export interface SaveOptions {
  /** Print `[packets:bytes]` before each rule, as `iptables-save -c` does. */
  readonly counters?: boolean;
  /** Print `# …` comment lines that were not iptables-save's own Generated/Completed lines. */
  readonly comments?: boolean;
  /** The rules of a dump read to be printed (its chains hold none): printed from here. */
  readonly printed?: PrintedRules;
}

/**
 * The rules of a dump read only to be printed (`parse --format save`), as iptables-save prints
 * them, by chain: a run of input lines that print as they were written is two offsets into the
 * input, any other rule its printed text. 100,000 rules cost a few numbers per chain.
 */
export class PrintedRules implements RuleSink {
  private text = '';
  /** Per chain (its rule array): [start, end) offset pairs and printed lines. */
  private readonly byChain = new Map<readonly Rule[], Array<number | string>>();

  begin(text: string): void {
    this.text = text;
  }

  add(rules: readonly Rule[], rule: Rule, lineStart: number): void {
    let list = this.byChain.get(rules);
    if (!list) {
      list = [];
      this.byChain.set(rules, list);
    }
    const text = this.text;
    // Compared with the line piece by piece: the printed text is made only when it differs.
    const end = lineStart >= 0 ? printsAt(rule, text, lineStart) : -1;
    if (end >= 0 && (end === text.length || text.charCodeAt(end) === 0x0a)) {
      const last = list.length - 1;
      // The line right after the run before it: the run grows (numbers come in pairs, so a number last is a run's end).
      if (last >= 0 && list[last] === lineStart - 1) list[last] = end;
      else list.push(lineStart, end);
    } else list.push(formatRule(rule));
  }

  reset(): void {
    this.byChain.clear();
  }

  /** Each rule line of a chain (with its line break; runs of lines at once); false when none were added. */
  emit(rules: readonly Rule[], emit: (line: string) => void): boolean {
    const list = this.byChain.get(rules);
    if (!list) return false;
    for (let i = 0; i < list.length; i++) {
      const item = list[i]!;
      if (typeof item === 'string') emit(`${item}\n`);
      else {
        const end = list[++i] as number;
        // A long run goes in pieces of whole lines, each at most one chunk.
        let from = item;
        while (end - from > WRITE_CHUNK) {
          const cut = this.text.lastIndexOf('\n', from + WRITE_CHUNK);
          if (cut < from) break;
          emit(this.text.slice(from, cut + 1));
          from = cut + 1;
        }
        emit(`${this.text.slice(from, end)}\n`);
      }
    }
    return true;
  }
}

/** Where printRule puts a rule's text, a piece at a time. */
interface Pieces {
  put(piece: string): void;
}

/** The pieces joined into one string (one string grown part by part: no list of parts to join). */
class Joined implements Pieces {
  text = '';
  put(piece: string): void {
    this.text += piece;
  }
}

/** The pieces compared, in turn, with a text from an offset: `at` ends past the last, or -1 once one differs. */
class Compared implements Pieces {
  text = '';
  at = -1;
  put(piece: string): void {
    if (this.at >= 0) this.at = this.text.startsWith(piece, this.at) ? this.at + piece.length : -1;
  }
}

/** The rule as iptables-save prints it, from `-A` on (no counters). */
export function formatRule(rule: Rule, _family: Family = 'ipv4'): string {
  const out = new Joined();
  printRule(rule, out);
  return out.text;
}

/**
 * formatRule's text, without making it when the rule's own text already reads so (iptables-save printed it): that
 * text, else the rule formatted. Asked of every rule in libvirt's chains by an audit, of every rule by diff, explain
 * and `parse --format json`: the text as read is checked piece by piece (printsAt), not built again.
 */
export function canonicalRuleText(rule: Rule, family: Family = 'ipv4'): string {
  const text = rule.text;
  return printsAt(rule, text, 0) === text.length ? text : formatRule(rule, family);
}

const compared = new Compared();
/** Where formatRule's text of the rule would end if `text` holds it at `start`; -1 when it does not. */
function printsAt(rule: Rule, text: string, start: number): number {
  compared.text = text;
  compared.at = start;
  printRule(rule, compared);
  const end = compared.at;
  compared.text = '';
  return end;
}

function printRule(rule: Rule, out: Pieces): void {
  out.put('-A ');
  out.put(rule.chain);
  const { source, destination, inInterface, outInterface, protocol } = rule;
  // Like print_ipv4_addr()/print_ipv6_addr(): an address matching everything is left out unless negated.
  if (source && (source.negated || source.prefix > 0)) {
    out.put(source.negated ? ' ! -s ' : ' -s ');
    out.put(formatCidr(source));
  }
  if (destination && (destination.negated || destination.prefix > 0)) {
    out.put(destination.negated ? ' ! -d ' : ' -d ');
    out.put(formatCidr(destination));
  }
  // print_iface(): a bare `+` matches every interface and is not printed, negated or not.
  if (inInterface && inInterface.name !== '+') {
    out.put(inInterface.negated ? ' ! -i ' : ' -i ');
    out.put(inInterface.name);
  }
  if (outInterface && outInterface.name !== '+') {
    out.put(outInterface.negated ? ' ! -o ' : ' -o ');
    out.put(outInterface.name);
  }
  if (protocol && !(protocol.name === 'all' && !protocol.negated)) {
    out.put(protocol.negated ? ' ! -p ' : ' -p ');
    out.put(protocol.name);
  }
  if (rule.fragment) out.put(rule.fragment.negated ? ' ! -f' : ' -f');
  for (const match of rule.matches) {
    out.put(' -m ');
    out.put(match.name);
    const text = canonicalMatchText(match);
    if (text !== '') {
      out.put(' ');
      out.put(text);
    }
  }
  if (rule.target) {
    out.put(rule.target.goto ? ' -g ' : ' -j ');
    out.put(rule.target.name);
    const text = canonicalTargetText(rule.target);
    if (text !== '') {
      out.put(' ');
      out.put(text);
    }
  }
}

function formatCounters(c: Counters | null): string {
  return c ? `[${c.packets}:${c.bytes}]` : '[0:0]';
}

/** User chains in the order iptables-save lists them (libiptc keeps them sorted by strcmp). */
export function chainsInSaveOrder(table: Table): Chain[] {
  const builtins = table.chains.filter((c) => c.builtin);
  const users = table.chains.filter((c) => !c.builtin).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [...builtins, ...users];
}

/** Each line of a table as iptables-save prints it (with its line break), in order. */
function tableLines(table: Table, family: Family, options: SaveOptions, emit: (line: string) => void): void {
  emit(`*${table.name}\n`);
  const chains = chainsInSaveOrder(table);
  for (const chain of chains)
    emit(`:${chain.name} ${chain.builtin ? (chain.policy ?? 'ACCEPT') : '-'} ${formatCounters(chain.counters)}\n`);
  for (const chain of chains) {
    if (options.printed?.emit(chain.rules, emit)) continue;
    for (const rule of chain.rules) {
      const text = formatRule(rule, family);
      emit(options.counters ? `${formatCounters(rule.counters)} ${text}\n` : `${text}\n`);
    }
  }
  emit('COMMIT\n');
}

const OWN_COMMENT = /^# (Generated by|Completed on) /;

function dumpLines(dump: Dump, options: SaveOptions, emit: (line: string) => void): void {
  const family = dump.family ?? 'ipv4';
  if (options.comments) for (const c of dump.comments) if (!OWN_COMMENT.test(c.text)) emit(c.text + '\n');
  for (const t of dump.tables) tableLines(t, family, options, emit);
}

export function formatDump(dump: Dump, options: SaveOptions = {}): string {
  const lines: string[] = [];
  dumpLines(dump, options, (line) => lines.push(line));
  return lines.join('');
}

/**
 * formatDump's text handed to `write` in chunks of at most 64 Ki characters, whole lines each:
 * a 110,000-rule dump is never one 11 MB string beside its 110,000 lines.
 */
export function writeDump(dump: Dump, write: (chunk: string) => void, options: SaveOptions = {}): void {
  const out = new Chunks(write);
  dumpLines(dump, options, (line) => out.put(line));
  out.end();
}
