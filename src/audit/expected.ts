// What the given running networks should have put in the dump: the engine compiles them for
// the flavour (and era) in force, and each derived rule is looked up in the dump by its
// identity (canonical text, ruleKey), as a multiset: two copies expected, two needed.

import { ruleKey } from '../diff/diff.js';
import { compileEach, type CompileOptions } from '../engine/compile.js';
import type { Command, Flavor } from '../engine/program.js';
import type { Purpose } from '../engine/why.js';
import { LEGACY_BOUNDARIES } from '../engine/libvirt-legacy.js';
import { XEN_BOUNDARIES } from '../engine/xen-common.js';
import { compareVersions, DEFAULT_XEN_VERSION, parseVersion } from '../engine/version.js';
import { exactly, type VersionRange } from '../engine/dnsmasq.js';
import type { Dump, Family, Rule } from '../model/dump.js';
import type { AnyNetwork, Network, XenNetwork } from '../model/network.js';
import { canonicalRuleText, formatRule } from '../write/save.js';

export interface ExpectedRule {
  /** The network whose start adds it; null for libvirt's shared chain set-up. */
  readonly network: string | null;
  readonly family: Family;
  readonly table: string;
  readonly chain: string;
  readonly canonical: string;
  readonly purpose: Purpose;
  readonly why: string;
  /** The iptables command that adds it (what to run when it is missing). */
  readonly argv: readonly string[];
}

export interface Expected {
  /** `libvirt 11.3.0`, `libvirt 0.6.3`, `xen 4.4`, … joined. */
  readonly eras: string[];
  readonly rules: ExpectedRule[];
  /** Expected rules with no copy in the dump. */
  readonly missing: ExpectedRule[];
  /** Dump rules that an expected rule accounts for. */
  readonly matched: Set<Rule>;
  /** Was the era picked by comparing candidates with the dump? */
  readonly eraDetected: boolean;
  /** The libvirt releases the compared era stands for (null: no libvirt networks compared). */
  readonly libvirtRange: VersionRange | null;
}

/** One release per era the legacy flavour knows: the oldest, then each boundary. */
const LEGACY_CANDIDATES = ['0.6.3', ...new Set(LEGACY_BOUNDARIES.map((b) => b.since)), '5.0.0'];
/** One Xen release per era of its scripts' rules, oldest first, while the network scripts existed (until 4.4). */
const XEN_CANDIDATES = [
  '3.0.0',
  ...XEN_BOUNDARIES.map((b) => b.since).filter((v) => compareVersions(parseVersion(v)!, '4.5') < 0),
  DEFAULT_XEN_VERSION,
];

/**
 * A rule's identity, as one flat string: joined, not concatenated, since V8 hashes and compares a
 * concatenation (and printRule's text is one) piece by piece, several times slower as a map key.
 */
const keyOf = (family: Family, table: string, chain: string, canonical: string): string =>
  [family, table, chain, ruleKey(canonical)].join('\u0000');

/** Appends the rules the commands add to `out` (those `keep` takes). */
function rulesOf(commands: readonly Command[], keep: (r: ExpectedRule) => boolean, out: ExpectedRule[]): void {
  for (const c of commands) {
    const e = c.effect;
    if (e.kind !== 'insert' && e.kind !== 'append') continue;
    const r: ExpectedRule = {
      network: c.setup ? null : c.network,
      family: e.family,
      table: e.table,
      chain: e.chain,
      canonical: formatRule(e.rule, e.family),
      purpose: c.purpose,
      why: c.why,
      argv: c.argv,
    };
    if (keep(r)) out.push(r);
  }
}

/**
 * The rules a compilation adds, those `keep` takes, made network by network (compileEach): a network's commands are
 * garbage once its rules are taken.
 */
function compiledRules(
  networks: readonly AnyNetwork[],
  options: CompileOptions,
  keep: (r: ExpectedRule) => boolean,
): { era: string; rules: ExpectedRule[] } {
  const rules: ExpectedRule[] = [];
  const { era } = compileEach(networks, options, (commands) => rulesOf(commands, keep, rules));
  return { era, rules };
}

/** A dump rule's identity (its family, table, chain and ruleKey of its canonical text), as one string. */
export function expectedKey(family: Family, rule: Rule): string {
  return keyOf(family, rule.table, rule.chain, canonicalRuleText(rule, family));
}

/** An expected rule's identity, as expectedKey makes a dump rule's. */
export function expectedRuleKey(r: ExpectedRule): string {
  return keyOf(r.family, r.table, r.chain, r.canonical);
}

/** One chain's rules by identity (ruleKey of the canonical text): the rule, or its copies in dump order. */
type ChainIndex = Map<string, Rule | Rule[]>;

/**
 * The dump rules of the chains expected rules are in, by family, table and chain, then identity. Nested, not by one
 * joined key: the chains' names are the compiler's and the reader's own strings, whose hashes V8 keeps, and a rule's
 * identity is mostly its text as read (canonicalRuleText); a joined key was a new string to build and hash per rule.
 */
class DumpIndex {
  private readonly chains = new Map<Family, Map<string, Map<string, ChainIndex>>>();

  /** The chain's index, made empty when `make` (the chains the expected rules name); undefined for another chain. */
  chain(family: Family, table: string, chain: string, make = false): ChainIndex | undefined {
    let tables = this.chains.get(family);
    if (!tables) {
      if (!make) return undefined;
      this.chains.set(family, (tables = new Map()));
    }
    let chains = tables.get(table);
    if (!chains) {
      if (!make) return undefined;
      tables.set(table, (chains = new Map()));
    }
    let index = chains.get(chain);
    if (!index && make) chains.set(chain, (index = new Map()));
    return index;
  }

  /** Fills the chains made so far with the dumps' rules. */
  fill(dumps: readonly Dump[]): void {
    for (const dump of dumps) {
      const family = dump.family ?? 'ipv4';
      for (const table of dump.tables) {
        for (const chain of table.chains) {
          const index = this.chain(family, table.name, chain.name);
          if (!index) continue;
          for (const rule of chain.rules) {
            const key = ruleKey(canonicalRuleText(rule, family));
            const copies = index.get(key);
            if (copies === undefined) index.set(key, rule);
            else if (Array.isArray(copies)) copies.push(rule);
            else index.set(key, [copies, rule]);
          }
        }
      }
    }
  }

  /** The dump's copies of an expected rule. */
  copies(r: ExpectedRule): Rule | Rule[] | undefined {
    return this.chain(r.family, r.table, r.chain)?.get(ruleKey(r.canonical));
  }
}

function indexOf(dumps: readonly Dump[], sets: ReadonlyArray<{ readonly rules: readonly ExpectedRule[] }>): DumpIndex {
  const index = new DumpIndex();
  for (const { rules } of sets) for (const r of rules) index.chain(r.family, r.table, r.chain, true);
  index.fill(dumps);
  return index;
}

function compare(rules: readonly ExpectedRule[], index: DumpIndex): { missing: ExpectedRule[]; matched: Set<Rule> } {
  // Copies taken so far, by the index's entry: one look-up by text per rule, the rest by object.
  const used = new Map<Rule | Rule[], number>();
  const missing: ExpectedRule[] = [];
  const matched = new Set<Rule>();
  for (const r of rules) {
    const copies = index.copies(r);
    if (copies === undefined) {
      missing.push(r);
      continue;
    }
    const n = used.get(copies) ?? 0;
    used.set(copies, n + 1);
    const copy = Array.isArray(copies) ? copies[n] : n === 0 ? copies : undefined;
    if (copy) matched.add(copy);
    else missing.push(r);
  }
  return { missing, matched };
}

export interface ExpectedOptions {
  readonly flavor: Extract<Flavor, 'libvirt' | 'libvirt-legacy'> | null;
  readonly libvirtVersion?: string;
  readonly families: ReadonlySet<Family>;
}

/** The expected rules of the running networks, compared with the dumps of the families given. */
export function expectedRules(
  running: readonly AnyNetwork[],
  dumps: readonly Dump[],
  options: ExpectedOptions,
): Expected {
  const libvirt = running.filter((n): n is Network => n.kind === 'libvirt');
  const xen = running.filter((n): n is XenNetwork => n.kind === 'xen');
  // A listing shows only the tables it lists: expect nothing of the others (they are not absent, only not shown).
  const shown = (r: ExpectedRule): boolean => {
    const d = dumps.find((x) => (x.family ?? 'ipv4') === r.family);
    return !d?.listing || d.listing.tables.includes(r.table);
  };
  const inFamilies = (r: ExpectedRule): boolean => options.families.has(r.family) && shown(r);
  // Each Xen set-up compiled for every release whose scripts differ (network scripts exist until 4.4).
  const xenCandidates = xen.map((n) =>
    XEN_CANDIDATES.map((version) => compiledRules([n], { flavor: `xen-${n.mode}`, xenVersion: version }, inFamilies)),
  );
  const candidates: Array<{ era: string; version: string | undefined; rules: ExpectedRule[] }> = [];
  if (options.flavor && libvirt.length > 0) {
    const versions =
      options.flavor === 'libvirt-legacy' && !options.libvirtVersion ? LEGACY_CANDIDATES : [options.libvirtVersion];
    for (const version of versions) {
      const compiled = compiledRules(
        libvirt,
        { flavor: options.flavor, ...(version ? { libvirtVersion: version } : {}) },
        inFamilies,
      );
      candidates.push({ ...compiled, version });
    }
  }
  // Only the chains expected rules live in need canonical identities.
  const index = indexOf(dumps, [...candidates, ...xenCandidates.flat()]);
  const xenRules = xenCandidates.map((c) => fitXen(c, index));
  // The era whose rules the dump holds best: fewest missing, then fewest left over; the newest on a tie.
  let best: {
    era: string;
    version: string | undefined;
    rules: ExpectedRule[];
    missing: ExpectedRule[];
    matched: Set<Rule>;
    alike: string[];
    versions: Array<string | undefined>;
  } | null = null;
  for (const c of candidates) {
    const { missing, matched } = compare(c.rules, index);
    const tie: boolean = best !== null && missing.length === best.missing.length && matched.size === best.matched.size;
    if (
      !best ||
      missing.length < best.missing.length ||
      (missing.length === best.missing.length && matched.size >= best.matched.size)
    ) {
      best = {
        ...c,
        missing,
        matched,
        alike: tie ? [...best!.alike, c.era] : [c.era],
        versions: tie ? [...best!.versions, c.version] : [c.version],
      };
    }
  }
  const xenAll = xenRules.flatMap((x) => x.rules);
  const all = [...(best?.rules ?? []), ...xenAll];
  // Without Xen rules the libvirt era's comparison is the whole one.
  const { missing, matched } = best && xenAll.length === 0 ? best : compare(all, index);
  // Eras whose rules look the same in this dump are named as a range.
  // Without --libvirt-version the 5.1+ flavours model the newest release, but every release since
  // 7.0 writes the same iptables rules: name the era, not a version the host may not run.
  const unversioned = !options.libvirtVersion && options.flavor === 'libvirt';
  const libvirtEra = !best
    ? null
    : unversioned
      ? 'libvirt 5.1+'
      : best.alike.length > 1
        ? `${best.alike[0]}–${best.alike.at(-1)!.replace(/^libvirt /, '')}`
        : best.era;
  const libvirtRange = !best ? null : rangeOf(options, best.versions, libvirtEra!);
  return {
    eras: [...(libvirtEra ? [libvirtEra] : []), ...new Set(xenRules.map((x) => x.era))],
    rules: all,
    missing,
    matched,
    eraDetected: candidates.length > 1,
    libvirtRange,
  };
}

/**
 * The Xen release whose scripts' rules the dump holds best: most rules found, then fewest
 * missing; the newest on a tie (with nothing found, the default). Releases that fit alike are
 * named as a range (`xen 3.0.0–3.2`): the dump cannot tell them apart.
 */
function fitXen(
  candidates: ReadonlyArray<{ era: string; rules: ExpectedRule[] }>,
  index: DumpIndex,
): { era: string; rules: ExpectedRule[] } {
  const scored = candidates.map((c) => ({ ...c, ...compare(c.rules, index) }));
  const better = (a: (typeof scored)[number], b: (typeof scored)[number]): number =>
    b.matched.size - a.matched.size || a.missing.length - b.missing.length;
  const found = scored.filter((c) => c.matched.size > 0);
  if (found.length === 0) return candidates.find((c) => c.era === `xen ${DEFAULT_XEN_VERSION}`) ?? candidates.at(-1)!;
  const best = [...found].sort((a, b) => better(a, b) || 1)[0]!;
  const alike = found.filter((c) => better(c, best) === 0);
  const newest = alike.at(-1)!;
  return {
    era: alike.length > 1 ? `${alike[0]!.era}–${newest.era.replace(/^xen /, '')}` : newest.era,
    rules: newest.rules,
  };
}

/** The releases a compared era stands for: a given version, the 5.1+ era, or the legacy candidates that fit alike. */
function rangeOf(options: ExpectedOptions, versions: ReadonlyArray<string | undefined>, label: string): VersionRange {
  if (options.libvirtVersion) return exactly(options.libvirtVersion);
  if (options.flavor !== 'libvirt-legacy') return { from: '5.1.0', below: null, label };
  const first = versions[0] ?? LEGACY_CANDIDATES[0]!;
  const last = versions.at(-1) ?? first;
  const next = LEGACY_CANDIDATES[LEGACY_CANDIDATES.indexOf(last) + 1] ?? '5.1.0';
  return { from: first, below: next, label };
}
