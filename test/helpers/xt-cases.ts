// One-rule cases for every option of every extension iptables 1.8.9 ships, generated from
// the extension data (src/xt): each option with valid values and each kind of invalid one
// (bad values, '!' where not allowed, a missing value, given twice, excluded pairs, missing
// required options, wrong family, table, chain and protocol). Only the inputs come from the
// data; what each case means is asked of the kernel (test/kernel/xt-oracle.test.ts).

import type { Family } from '../../src/model/dump.js';
import { BUILTIN_CHAINS } from '../../src/model/dump.js';
import { allExtensions } from '../../src/xt/registry.js';
import type { Extension, XtOption } from '../../src/xt/spec.js';

export interface XtCase {
  readonly family: Family;
  readonly table: string;
  readonly chain: string;
  /** The rule after `-A CHAIN `. */
  readonly rule: string;
  /** What the case probes, for messages. */
  readonly about: string;
  /** Rules before it in the same chain (from the extension's case context). */
  readonly before?: readonly string[];
  readonly serial?: boolean;
}

/** Quotes a sample for a restore line when it needs it. */
function word(v: string): string {
  return v === '' || /[\s"'\\]/.test(v) ? `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"` : v;
}

/** A table and chain where the extension is allowed, or the one its case context names. */
function placeOf(ext: Extension): { table: string; chain: string } {
  const ctx = ext.caseContext;
  const table = ctx?.table ?? ext.tables?.[0] ?? 'filter';
  const chains = BUILTIN_CHAINS[table] ?? [];
  const chain = ctx?.chain ?? chains.find((c) => !ext.hooks || ext.hooks.includes(c as never)) ?? chains[0]!;
  return { table, chain };
}

function firstValid(o: XtOption): string {
  const s = o.samples ?? o.type?.samples;
  return s?.valid[0] ?? '1';
}

/** The words that load the extension in a minimal valid rule, with `body` as its options. */
function ruleWith(ext: Extension, body: string, opts: { proto?: string | null } = {}): string {
  const ctx = ext.caseContext;
  const proto =
    opts.proto === undefined ? (ext.protocols ? `-p ${ext.protocols[0]}` : '') : opts.proto === null ? '' : opts.proto;
  const head = [proto, ctx?.prefix ?? ''].filter(Boolean).join(' ');
  const load = ext.kind === 'match' ? `-m ${ext.name}` : `-j ${ext.name}`;
  return [head, load, body].filter(Boolean).join(' ');
}

/** The required options (and the case context's base) with valid values, except `skip`. */
function baseOf(ext: Extension, skip: string | null): string {
  if (ext.caseContext?.base !== undefined && skip === null) return ext.caseContext.base;
  const parts: string[] = [];
  for (const o of ext.options) {
    if (!o.required || o.name === skip) continue;
    parts.push(o.type === null ? `--${o.name}` : `--${o.name} ${word(firstValid(o))}`);
  }
  if (ext.caseContext?.base !== undefined)
    return [ext.caseContext.base, ...parts.filter((p) => !ext.caseContext!.base!.includes(p.split(' ')[0]!))].join(' ');
  return parts.join(' ');
}

function familiesOf(ext: Extension): Family[] {
  return ext.family ? [ext.family] : ['ipv4', 'ipv6'];
}

export function generateCases(): XtCase[] {
  const out: XtCase[] = [];
  const seen = new Set<string>();
  const add = (c: XtCase): void => {
    const key = `${c.family} ${c.table} ${c.chain} ${c.rule}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(c);
  };
  for (const ext of allExtensions()) {
    const where = placeOf(ext);
    for (const family of familiesOf(ext)) {
      const before = ext.caseContext?.before;
      const serial = ext.caseContext?.serial;
      const at = (rule: string, about: string, place = where): void =>
        add({
          family,
          table: place.table,
          chain: place.chain,
          rule,
          about: `${ext.kind} ${ext.name}: ${about}`,
          ...(before ? { before } : {}),
          ...(serial ? { serial } : {}),
        });
      const base = (skip: string | null): string => baseOf(ext, skip);
      at(ruleWith(ext, base(null)), 'minimal rule');
      for (const o of ext.options) {
        if (o.untestable) continue;
        const others = base(o.name);
        const withOpt = (text: string): string => ruleWith(ext, [others, text].filter(Boolean).join(' '));
        const samples = o.samples ?? o.type?.samples ?? { valid: [], invalid: [] };
        if (o.type === null) {
          at(withOpt(`--${o.name}`), `--${o.name}`);
          at(withOpt(`! --${o.name}`), `! --${o.name}`);
          at(withOpt(`--${o.name} --${o.name}`), `--${o.name} twice`);
          at(withOpt(`--${o.name} extra`), `--${o.name} with a stray word`);
        } else {
          for (const v of samples.valid) at(withOpt(`--${o.name} ${word(v)}`), `--${o.name} '${v}'`);
          for (const v of samples.invalid) at(withOpt(`--${o.name} ${word(v)}`), `--${o.name} '${v}' (invalid)`);
          const v0 = firstValid(o);
          at(withOpt(`! --${o.name} ${word(v0)}`), `! --${o.name}`);
          at(withOpt(`--${o.name} ${word(v0)} --${o.name} ${word(v0)}`), `--${o.name} twice`);
          at(withOpt(`--${o.name}`), `--${o.name} without its value`);
          if (o.second) {
            const w0 = o.second.samples.valid[0] ?? '1';
            for (const v of o.second.samples.valid.slice(1))
              at(withOpt(`--${o.name} ${word(v0)} ${word(v)}`), `--${o.name} second value '${v}'`);
            for (const v of o.second.samples.invalid)
              at(withOpt(`--${o.name} ${word(v0)} ${word(v)}`), `--${o.name} second value '${v}' (invalid)`);
            at(withOpt(`--${o.name} ${word(w0)} ${word(w0)} extra`), `--${o.name} with a stray word`);
          } else {
            at(withOpt(`--${o.name} ${word(v0)} extra`), `--${o.name} with a stray word`);
          }
          at(withOpt(`--${o.name}=${word(v0)}`), `--${o.name}=VALUE`);
        }
        for (const alias of o.aliases ?? [])
          at(withOpt(o.type === null ? `--${alias}` : `--${alias} ${word(firstValid(o))}`), `alias --${alias}`);
        if (o.name.length > 4)
          at(
            withOpt(o.type === null ? `--${o.name.slice(0, -1)}` : `--${o.name.slice(0, -1)} ${word(firstValid(o))}`),
            `--${o.name} abbreviated`,
          );
        for (const x of o.excl ?? []) {
          const other = ext.options.find((p) => p.name === x);
          if (!other || other.untestable || x < o.name) continue;
          const a = o.type === null ? `--${o.name}` : `--${o.name} ${word(firstValid(o))}`;
          const b = other.type === null ? `--${x}` : `--${x} ${word(firstValid(other))}`;
          at(withOpt(`${a} ${b}`), `--${o.name} with --${x}`);
        }
        if (o.required) at(ruleWith(ext, base(o.name)), `without the required --${o.name}`);
      }
      at(ruleWith(ext, [base(null), '--no-such-option 1'].filter(Boolean).join(' ')), 'an unknown option');
      if (ext.protocols) {
        at(ruleWith(ext, base(null), { proto: null }), 'without -p');
        at(
          ruleWith(ext, base(null), { proto: ext.protocols.includes('udp') ? '-p gre' : '-p udp' }),
          'with another -p',
        );
        at(ruleWith(ext, base(null), { proto: `! -p ${ext.protocols[0]}` }), `with ! -p ${ext.protocols[0]}`);
      }
      if (ext.tables) {
        for (const table of Object.keys(BUILTIN_CHAINS)) {
          if (ext.tables.includes(table)) continue;
          const chain =
            (BUILTIN_CHAINS[table] ?? []).find((c) => !ext.hooks || ext.hooks.includes(c as never)) ??
            BUILTIN_CHAINS[table]![0]!;
          at(ruleWith(ext, base(null)), `in the ${table} table`, { table, chain });
        }
      }
      if (ext.hooks) {
        for (const chain of BUILTIN_CHAINS[where.table] ?? []) {
          if (ext.hooks.includes(chain as never)) continue;
          at(ruleWith(ext, base(null)), `in ${chain}`, { table: where.table, chain });
        }
      }
    }
    if (ext.family) {
      const other: Family = ext.family === 'ipv4' ? 'ipv6' : 'ipv4';
      add({
        family: other,
        ...where,
        rule: ruleWith(ext, baseOf(ext, null)),
        about: `${ext.kind} ${ext.name}: in ${other === 'ipv6' ? 'ip6tables' : 'iptables'}`,
      });
    }
  }
  return out;
}
