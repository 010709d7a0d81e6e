// What every check reads: the host's dumps, the networks (running, stopped, and those the dump
// shows that no definition covers), each rule explained once, the flavour in force, the rules
// the running networks should have (lazily) and the simulated host (lazily, order-aware).

import {
  classifyAll,
  explainRule,
  inferNetworks,
  networksFromDefinitions,
  type Explained,
  type NetworkInfo,
} from '../explain/attribute.js';
import { verdictOf, type NetworkVerdict } from '../explain/verdict.js';
import type { Flavor } from '../engine/program.js';
import type { IpFamily } from '../model/cidr.js';
import type { Dump, Family, Rule } from '../model/dump.js';
import { explainNftTables, inferNftNetworks, type NftExplained } from '../explain/nft-explain.js';
import { nftOnlyTables, type Host } from '../model/host.js';
import { installsRules, type AnyNetwork, type ForwardMode } from '../model/network.js';
import type { NftRuleset } from '../model/nft.js';
import { exactly, type VersionRange } from '../engine/dnsmasq.js';
import { expectedRules, type Expected } from './expected.js';
import { groupBy } from '../model/lists.js';
import { RuleSlots } from '../model/rule-slots.js';
import { detectFlavor, type FlavorInfo } from './flavor.js';
import type { Probes } from './probes.js';
import type { Finding, Location, Severity, Templates } from './types.js';

export interface AuditInputs {
  /** One host's dumps: at most one per family. */
  readonly dumps: readonly Dump[];
  /** The host the dumps are from, with its nft ruleset (src/model/host.ts); absent when only dumps were given. */
  readonly host?: Host;
  /** The host's nft ruleset when no host is given (tests): the simulator runs it with the dumps. */
  readonly nft?: NftRuleset | null;
  /** Networks taken as running (`--net`). */
  readonly running: readonly AnyNetwork[];
  /** Networks defined but stopped (`--inactive`): their rules must be absent. */
  readonly inactive: readonly AnyNetwork[];
  readonly flavor?: Flavor;
  readonly libvirtVersion?: string;
}

/** What a network's rules are meant to let through, in libvirt's words (Xen set-ups by their script). */
export type Mode = ForwardMode | 'xen-bridge' | 'xen-nat' | 'xen-route' | 'docker';

export interface AuditContext {
  readonly dumps: readonly Dump[];
  readonly ipv4: Dump | null;
  readonly ipv6: Dump | null;
  readonly nft: NftRuleset | null;
  readonly running: readonly AnyNetwork[];
  readonly inactive: readonly AnyNetwork[];
  /** Running (given), stopped (given), then inferred from the dump. */
  readonly networks: readonly NetworkInfo[];
  readonly explained: readonly Explained[];
  readonly flavor: FlavorInfo;
  /** Inputs that were empty files (no tables at all), as people name them. */
  readonly emptyInputs: readonly string[];
  readonly libvirtVersion: string | undefined;
  /** Were networks given at all (`--net` or `--inactive`)? Without, everything is inferred. */
  readonly given: boolean;
  isRunning(n: NetworkInfo): boolean;
  isInactive(n: NetworkInfo): boolean;
  verdict(n: NetworkInfo): NetworkVerdict;
  modeOf(n: NetworkInfo): Mode | null;
  /**
   * Does the dump hold any of the network's own (libvirt/Xen) rules (of one family's dump, when given)? Reachability is
   * judged only for those.
   */
  hasRules(n: NetworkInfo, family?: IpFamily): boolean;
  /** Explained rules of a network (by name). */
  rulesOf(network: string): readonly Explained[];
  /** Explained nft rules of a network (libvirt's nft table), by name. */
  nftRulesOf(network: string): readonly NftExplained[];
  explainedRule(rule: Rule): Explained | undefined;
  /** Where a rule is: its dump's file, its line, its text. */
  location(rule: Rule): Location;
  /** Where a network is defined; null for inferred ones. */
  definitionLocation(n: NetworkInfo): Location | null;
  /** The running networks' expected rules compared with the dump (null: no flavour to compare with). */
  expected(): Expected | null;
  /** The libvirt releases the host may run, from --libvirt-version, the flavour and the era its rules fit. */
  libvirtRange(): VersionRange | null;
  /** The simulated host for the IPv4 dump; null when there is none. */
  probes(): Probes | null;
  /**
   * The simulated hosts the reachability checks judge, one per family that has a ruleset
   * (IPv4: iptables-save or nft; IPv6: ip6tables-save or nft) and a subject: IPv4 first.
   */
  reachability(): readonly Probes[];
  /** Set by the runner once the simulator is loaded. */
  probeBuilder: ((dump: Dump | null, networks: readonly NetworkInfo[], family: IpFamily) => Probes) | null;
}

/** Does an nft table family's ruleset see packets of an IP family? */
function nftFamilyServes(table: string, family: IpFamily): boolean {
  return table === 'inet' || table === 'bridge' || table === 'netdev' || table === (family === 6 ? 'ip6' : 'ip');
}

function familyOf(dump: Dump): Family {
  return dump.family ?? 'ipv4';
}

export function buildContext(inputs: AuditInputs): AuditContext {
  const dumps = inputs.dumps;
  const ipv4 = dumps.find((d) => familyOf(d) === 'ipv4') ?? null;
  const ipv6 = dumps.find((d) => familyOf(d) === 'ipv6') ?? null;
  const running = networksFromDefinitions(inputs.running);
  const inactive = networksFromDefinitions(inputs.inactive);
  const runningSet = new Set(running);
  const inactiveSet = new Set(inactive);
  const nft = inputs.nft ?? inputs.host?.nft ?? null;
  // nft's own tables (iptables-nft's come with their rules from iptables-save).
  const nftTables = inputs.host ? nftOnlyTables(inputs.host) : (nft?.tables ?? []);
  const seen = classifyAll(dumps);
  const fromDumps = inferNetworks(dumps, [...running, ...inactive], seen);
  const networks = [...fromDumps, ...inferNftNetworks(nftTables, fromDumps)];
  const nftExplained = explainNftTables(nftTables, networks);
  // Looked up by network name only (the null group, rules of no network, is never asked for).
  const nftByNetwork = groupBy(nftExplained, (e) => e.network);
  const explained: Explained[] = new Array(seen.rules.length);
  for (let i = 0; i < explained.length; i++)
    explained[i] = explainRule(seen.rules[i]!, seen.families[i]!, networks, seen.classified[i] ?? null);
  // A rule's file is its family's dump's (one dump per family); several of one family: each rule's own, kept by rule.
  const byFamily = new Map(dumps.map((d) => [familyOf(d), d.file]));
  let fileOf: Map<Rule, string> | null = null;
  if (byFamily.size < dumps.length) {
    fileOf = new Map();
    for (const dump of dumps)
      for (const table of dump.tables)
        for (const chain of table.chains) for (const rule of chain.rules) fileOf.set(rule, dump.file);
  }
  const fileOfRule = (rule: Rule): string | undefined => {
    if (fileOf) return fileOf.get(rule);
    const e = byRule.get(rule);
    return e ? byFamily.get(e.family) : undefined;
  };
  const byRule = new RuleSlots<Explained>();
  const byNetwork = new Map<string, Explained[]>();
  for (let i = 0; i < explained.length; i++) {
    const e = explained[i]!;
    byRule.set(e.rule, e);
    if (e.network === null) continue;
    const list = byNetwork.get(e.network);
    if (list) list.push(e);
    else byNetwork.set(e.network, [e]);
  }
  // Networks whose rules this dump should hold: any for iptables-save (libvirt adds its general
  // IPv4 rules even without an IPv4 address), only those with an IPv6 address for ip6tables-save;
  // with no dump (nft, or empty files) every one.
  const v4Dump = dumps.some((d) => familyOf(d) === 'ipv4');
  const runningLibvirt = inputs.running.filter(
    (n) =>
      n.kind === 'libvirt' &&
      installsRules(n.forward.mode) &&
      (v4Dump || dumps.length === 0 || n.ips.some((ip) => ip.family === 6)),
  ).length;
  const emptyFiles = (inputs.host?.inputs ?? [])
    .filter((i) => i.kind === 'empty')
    .map((i) => (i.file === '-' ? 'standard input' : i.file));
  const flavor = detectFlavor(dumps, explained, inputs.flavor, runningLibvirt, nft, emptyFiles);
  const verdicts = new Map<NetworkInfo, NetworkVerdict>();
  let expected: Expected | null | undefined;
  let probes: Probes | null | undefined;
  let reachability: Probes[] | undefined;

  const context: AuditContext = {
    dumps,
    ipv4,
    ipv6,
    nft,
    running: inputs.running,
    inactive: inputs.inactive,
    networks,
    explained,
    flavor,
    emptyInputs: emptyFiles,
    libvirtVersion: inputs.libvirtVersion,
    given: inputs.running.length + inputs.inactive.length > 0,
    isRunning: (n) => runningSet.has(n),
    isInactive: (n) => inactiveSet.has(n),
    verdict(n) {
      let v = verdicts.get(n);
      const fromNft = nftByNetwork.get(n.name);
      if (!v)
        verdicts.set(
          n,
          (v =
            fromNft && !byNetwork.has(n.name)
              ? verdictOf(n, fromNft, 'nft')
              : verdictOf(n, byNetwork.get(n.name) ?? [], undefined, new Set(dumps.map(familyOf)))),
        );
      return v;
    },
    modeOf(n) {
      if (n.owner === 'docker') return 'docker';
      const def = n.definition;
      if (def?.kind === 'libvirt') return def.forward.mode;
      if (def?.kind === 'xen') return `xen-${def.mode}`;
      if (n.owner === 'xen') return null;
      const v = context.verdict(n);
      const has = (p: string): boolean => v.purposes.includes(p as never);
      if (v.verdict === 'nat' || has('masquerade') || has('snat') || has('related-in')) return 'nat';
      if (v.verdict === 'route' || has('forward-in')) return 'route';
      if (v.verdict === 'isolated' || v.verdict === 'partial') return 'none';
      return null;
    },
    rulesOf: (name) => byNetwork.get(name) ?? [],
    nftRulesOf: (name) => nftByNetwork.get(name) ?? [],
    hasRules: (n, family) =>
      (byNetwork.get(n.name) ?? []).some(
        (e) =>
          e.purpose !== null &&
          (e.owner === 'libvirt' || e.owner === 'xen') &&
          (family === undefined || e.family === (family === 6 ? 'ipv6' : 'ipv4')),
      ) ||
      (nftByNetwork.get(n.name) ?? []).some(
        (e) =>
          e.purpose !== null &&
          e.owner === 'libvirt' &&
          (family === undefined || nftFamilyServes(e.rule.family, family)),
      ),
    explainedRule: (rule) => byRule.get(rule),
    location: (rule) => ({ file: fileOfRule(rule) ?? '-', line: rule.line, col: rule.col, text: rule.text }),
    definitionLocation(n) {
      const def = n.definition;
      return def ? { file: def.origin.file, line: def.origin.pos.line, col: def.origin.pos.col } : null;
    },
    expected() {
      if (expected !== undefined) return expected;
      const families = new Set(dumps.map(familyOf));
      const libvirtFlavor = flavor.flavor === 'libvirt' || flavor.flavor === 'libvirt-legacy' ? flavor.flavor : null;
      const hasXen = inputs.running.some((n) => n.kind === 'xen');
      if ((!libvirtFlavor && !hasXen) || dumps.length === 0) return (expected = null);
      return (expected = expectedRules(inputs.running, dumps, {
        flavor: libvirtFlavor,
        ...(inputs.libvirtVersion ? { libvirtVersion: inputs.libvirtVersion } : {}),
        families,
      }));
    },
    libvirtRange() {
      if (inputs.libvirtVersion) return exactly(inputs.libvirtVersion);
      switch (flavor.flavor) {
        case 'libvirt':
          return { from: '5.1.0', below: null, label: 'libvirt 5.1+' };
        case 'libvirt-nft':
          return { from: '10.4.0', below: null, label: 'libvirt 10.4+' };
        case 'libvirt-legacy':
          return context.expected()?.libvirtRange ?? { from: '0.3.0', below: '5.1.0', label: 'libvirt before 5.1' };
        case null:
          return null;
      }
    },
    probes() {
      if (probes !== undefined) return probes;
      if ((!ipv4 && !context.nft) || !context.probeBuilder) return (probes = null);
      return (probes = context.probeBuilder(
        ipv4,
        networks.filter((n) => !inactiveSet.has(n)),
        4,
      ));
    },
    reachability() {
      if (reachability !== undefined) return reachability;
      const out: Probes[] = [];
      const v4 = context.probes();
      if (v4 && v4.subjects.length > 0) out.push(v4);
      const live = networks.filter((n) => !inactiveSet.has(n));
      // IPv6 only where some network has an IPv6 subnet: the IPv6 host is then simulated from ip6tables-save and nft.
      if ((ipv6 || context.nft) && context.probeBuilder && live.some((n) => n.subnets.some((c) => c.family === 6))) {
        const v6 = context.probeBuilder(ipv6, live, 6);
        if (v6.subjects.length > 0) out.push(v6);
      }
      return (reachability = out);
    },
    probeBuilder: null,
  };
  return context;
}

/** A check, ESLint-style: a stable id, a severity, a one-line summary, its doc, a run over the context. */
export interface Check {
  readonly id: string;
  /** The severity its findings have unless the finding says otherwise. */
  readonly severity: Severity;
  readonly summary: string;
  /** The check's documentation, relative to the package root. */
  readonly docs: string;
  /** Its messages and fixes as templates with {{named}} data (types.ts `report`; ESLint's `messages`). */
  readonly messages: Templates;
  readonly run: (context: AuditContext) => Finding[];
}

/** A check whose words are templates: `report(check, …)` takes only the names of its own messages. */
export function defineCheck<K extends string>(
  check: Check & { readonly messages: Templates<K> },
): Check & { readonly messages: Templates<K> } {
  return check;
}
