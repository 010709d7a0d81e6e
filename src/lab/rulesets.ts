// Rule-set assertions: "after starting natted, the added rules are exactly libvirt's". The
// expected rules are the engine's (the rules the modelled era adds to the sheet's `before`
// dump) or a listing in the sheet; the observed ones are the answer's listing (any format,
// any era's spelling) or what changed between its before and after dumps. Rules are the same
// when their canonical text is (diff's rule identity); order counts only `in order`.

import { parseListing, listedRules, showsInterfaces } from '../../grammar/listing.js';
import { explainRule, networksFromDefinitions, type NetworkInfo } from '../explain/attribute.js';
import { diffDumps, ruleKey } from '../diff/diff.js';
import type { Dump, Rule } from '../model/dump.js';
import { decodeText, plural } from '../model/text.js';
import { formatRule } from '../write/save.js';
import type { Evidence } from './evidence.js';
import type { ReadBytes } from '../input/disk.js';
import { namesText, permutations, startNetworks } from './firewall.js';
import { skippedNotes } from './operations.js';
import type { RuleSet, World } from './sheet.js';

export interface RuleLine {
  readonly table: string;
  readonly chain: string;
  /** Canonical text (`-A CHAIN …`). */
  readonly rule: string;
  /** What the rule is for, or why it does not belong. */
  readonly note: string | null;
}

export interface RulesOutcome {
  readonly pass: boolean;
  /** One line: `12 of 13 rules; 1 missing, 2 extra`. */
  readonly observed: string;
  readonly message: string;
  readonly missing: RuleLine[];
  readonly extra: RuleLine[];
  readonly misordered: string[];
  readonly notes: string[];
  /** Where the compared rules came from. */
  readonly expectedFrom: string;
  readonly observedFrom: string;
}

interface Item {
  readonly table: string;
  readonly chain: string;
  readonly rule: Rule;
  readonly why: string | null;
}

function keyOf(item: Item, interfaces: boolean): string {
  const rule = interfaces ? item.rule : { ...item.rule, inInterface: null, outInterface: null };
  return `${item.table} ${ruleKey(formatRule(rule, 'ipv4'))}`;
}

function line(item: Item, note: string | null): RuleLine {
  return { table: item.table, chain: item.chain, rule: formatRule(item.rule, 'ipv4'), note };
}

interface Expected {
  readonly items: Item[];
  readonly before: Dump | null;
  readonly from: string;
}

function expectedSets(world: World, a: RuleSet, read: ReadBytes): Expected[] {
  const names = a.networks.map((n) => n.name);
  switch (a.source.kind) {
    case 'engine':
      return (a.anyOrder ? permutations(names) : [names]).map((order) => {
        const started = startNetworks(world, order);
        const why = new Map<Rule, string>();
        for (const c of started.program.commands) if ('rule' in c.effect) why.set(c.effect.rule, c.why);
        const added = diffDumps(started.before, started.dump).added;
        return {
          items: added.map((r) => ({ table: r.table, chain: r.chain, rule: r.rule, why: why.get(r.rule) ?? null })),
          before: started.before,
          from: `rules ${world.era.label} adds when ${namesText(order)} start${order.length > 1 ? '' : 's'}`,
        };
      });
    case 'file': {
      const path = world.path(a.source.file);
      const listing = parseListing(decodeText(path, read(path)), path);
      return [
        {
          items: listedRules(listing).map((o) => ({ table: o.table, chain: o.chain, rule: o.rule, why: null })),
          before: world.before?.ok ? world.before.value : null,
          from: `rules in ${path}`,
        },
      ];
    }
    case 'inline': {
      // Line numbers of the block stay those of the sheet, for errors.
      const lines = a.source.lines;
      const text = lines.map((l, i) => '\n'.repeat(l.line - (i === 0 ? 1 : lines[i - 1]!.line)) + l.text).join('');
      const listing = parseListing(text, world.file);
      return [
        {
          items: listedRules(listing).map((o) => ({ table: o.table, chain: o.chain, rule: o.rule, why: null })),
          before: world.before?.ok ? world.before.value : null,
          from: `rules listed in ${world.file}`,
        },
      ];
    }
  }
}

type Observed =
  { ok: true; items: Item[]; interfaces: boolean; from: string; notes: string[] } | { ok: false; why: string };

/** Does the sheet run the answer's listing as commands on its firewall (then it is not the answer's rule set)? */
function listingIsCommands(world: World): boolean {
  return (world.firewall?.sources ?? []).some(
    (s) => s.kind === 'answer-commands' || (s.kind === 'answer-dump' && s.commands !== null),
  );
}

function observedRules(world: World, evidence: Evidence): Observed {
  const listing = listingIsCommands(world)
    ? ({ ok: false, why: "the answer's commands change the firewall here" } as const)
    : evidence.listing(null);
  if (listing.ok) {
    const interfaces = showsInterfaces(listing.value);
    return {
      ok: true,
      interfaces,
      from: listing.file,
      items: listedRules(listing.value).map((o) => ({ table: o.table, chain: o.chain, rule: o.rule, why: null })),
      notes: [
        ...(interfaces
          ? []
          : [`${listing.file} does not show interfaces (iptables -L -n without -v): rules are compared without them`]),
        ...listing.value.refused.map((r) => r.replace(/^([^:]+:\d+):\d+: /, '$1: iptables refuses it: ')),
        ...skippedNotes(listing.value),
      ],
    };
  }
  const after = evidence.hostDump(null);
  if (!after.ok) return { ok: false, why: `${listing.why}; nor a before/after pair of dumps (${after.why})` };
  const before = evidence.beforeDump() ?? world.before;
  if (!before || !before.ok)
    return {
      ok: false,
      why: `${after.file} is the firewall after the change; the firewall before it is needed too (before.save, or 'before' in the sheet)`,
    };
  const added = diffDumps(before.value, after.value).added;
  return {
    ok: true,
    interfaces: true,
    from: `${after.file} compared with ${before.file}`,
    items: added.map((r) => ({ table: r.table, chain: r.chain, rule: r.rule, why: null })),
    notes: [],
  };
}

function compare(
  world: World,
  a: RuleSet,
  expected: Expected,
  observed: Extract<Observed, { ok: true }>,
  networks: NetworkInfo[],
): RulesOutcome {
  const interfaces = observed.interfaces;
  const pool = new Map<string, Item[]>();
  for (const o of observed.items) {
    const k = keyOf(o, interfaces);
    pool.set(k, [...(pool.get(k) ?? []), o]);
  }
  const matched: Array<{ e: Item; o: Item }> = [];
  const missingItems: Item[] = [];
  for (const e of expected.items) {
    const hit = pool.get(keyOf(e, interfaces))?.shift();
    if (hit) matched.push({ e, o: hit });
    else missingItems.push(e);
  }
  const extraItems = a.mode === 'exactly' ? [...pool.values()].flat() : [];
  const started = namesText(a.networks.map((n) => n.name));
  const beforeKeys = new Set<string>();
  if (expected.before)
    for (const t of expected.before.tables)
      for (const c of t.chains)
        for (const r of c.rules)
          beforeKeys.add(keyOf({ table: t.name, chain: c.name, rule: r, why: null }, interfaces));
  const missing = missingItems.map((e) => line(e, e.why ?? explainRule(e.rule, 'ipv4', networks).why));
  const forwarding = new Set([
    'forward-out',
    'related-in',
    'forward-in',
    'masquerade',
    'masquerade-ports',
    'snat',
    'snat-ports',
  ]);
  let isolatedWithForwarding: string | null = null;
  const extra = extraItems.map((o) => {
    if (beforeKeys.has(keyOf(o, interfaces))) return line(o, `already in the firewall before ${started} started`);
    const e = explainRule(o.rule, 'ipv4', networks);
    const def = world.networks.find((n) => n.name === e.network)?.network;
    if (e.purpose && forwarding.has(e.purpose) && def?.kind === 'libvirt' && def.forward.mode === 'none')
      isolatedWithForwarding = def.name;
    return line(o, `not added: ${e.why}`);
  });

  // Order: the matched rules of each chain, in the answer's order, against the expected order.
  const misordered: string[] = [];
  if (a.inOrder) {
    const chains = new Set(matched.map((m) => `${m.e.table} ${m.e.chain}`));
    for (const ch of chains) {
      const inChain = matched.filter((m) => `${m.e.table} ${m.e.chain}` === ch);
      const answerOrder = [...inChain].sort((x, y) => observed.items.indexOf(x.o) - observed.items.indexOf(y.o));
      const i = inChain.findIndex((m, k) => answerOrder[k] !== m);
      if (i >= 0) {
        const wanted = inChain[i]!;
        misordered.push(
          `${ch}: '${formatRule(wanted.e.rule)}' must come before '${formatRule(answerOrder[i]!.e.rule)}'`,
        );
      }
    }
  }

  const pass = missing.length === 0 && extra.length === 0 && misordered.length === 0;
  const total = expected.items.length;
  const observedText = `${observed.items.length} rule${observed.items.length === 1 ? '' : 's'} given, ${matched.length} of the ${total} expected${missing.length ? `, ${missing.length} missing` : ''}${extra.length ? `, ${extra.length} extra` : ''}${misordered.length ? ', out of order' : ''}`;
  const parts: string[] = [];
  if (missing.length > 0) {
    const tables = new Set(missing.map((m) => m.table));
    const answerTables = new Set(observed.items.map((o) => o.table));
    const absent = [...tables].filter((t) => !answerTables.has(t));
    parts.push(
      `${plural(missing.length, 'rule')} missing${absent.length ? ` — nothing from the ${absent.join(' and ')} table (list it too: iptables -t ${absent[0]} -L -n -v, or iptables-save)` : ''}: ${missing.map((m) => `${m.table} ${m.rule}${m.note ? ` (${m.note})` : ''}`).join('; ')}`,
    );
  }
  if (extra.length > 0) {
    const old = extra.filter((x) => x.note?.startsWith('already'));
    const other = extra.filter((x) => !x.note?.startsWith('already'));
    if (old.length > 0)
      parts.push(
        `${plural(old.length, 'rule')} listed ${old.length === 1 ? 'was' : 'were'} already in the firewall before ${started} started (the question asks what starting it adds: compare iptables-save before and after)`,
      );
    if (isolatedWithForwarding)
      parts.push(`${isolatedWithForwarding} has no <forward>: libvirt adds no forwarding and no NAT rules for it`);
    if (other.length > 0)
      parts.push(
        `${plural(other.length, 'rule')} listed that starting ${started} does not add: ${other.map((x) => `${x.table} ${x.rule}${x.note ? ` (${x.note.replace(/^not added: /, '')})` : ''}`).join('; ')}`,
      );
  }
  if (misordered.length > 0) parts.push(`out of order: ${misordered.join('; ')}`);
  const expectWord = a.mode === 'exactly' ? 'exactly' : 'at least';
  const message = pass
    ? `${expectWord} the ${total} ${expected.from}${a.inOrder ? ', in order' : ''}`
    : `expected ${expectWord} the ${total} ${expected.from}${a.inOrder ? ', in order' : ''}; ${parts.join('. ')}`;
  return {
    pass,
    observed: observedText,
    message,
    missing,
    extra,
    misordered,
    notes: observed.notes,
    expectedFrom: expected.from,
    observedFrom: observed.from,
  };
}

/** Evaluates a rule-set assertion; with `in any order`, the start order closest to the answer decides. */
export function evaluateRules(world: World, evidence: Evidence, read: ReadBytes, a: RuleSet): RulesOutcome {
  const networks = networksFromDefinitions(world.networks.map((n) => n.network));
  const observed = observedRules(world, evidence);
  const sets = expectedSets(world, a, read);
  if (!observed.ok) {
    return {
      pass: false,
      observed: 'no answer',
      message: `nothing to compare: ${observed.why}`,
      missing: [],
      extra: [],
      misordered: [],
      notes: [],
      expectedFrom: sets[0]?.from ?? '',
      observedFrom: '',
    };
  }
  const outcomes = sets.map((e) => compare(world, a, e, observed, networks));
  return (
    outcomes.find((o) => o.pass) ??
    outcomes.sort(
      (x, y) =>
        x.missing.length +
        x.extra.length +
        x.misordered.length -
        (y.missing.length + y.extra.length + y.misordered.length),
    )[0]!
  );
}
