// Tying each rule of a dump to the network it belongs to (given networks, or networks
// inferred from the dump alone: libvirt bridges with their subnets, Xen vifs, Docker), and to
// the software that installed it; then the sentence that says what it is for.

import { formatCidr, maskOf, type Cidr, cidrEquals, type IpFamily } from '../model/cidr.js';
import type { AddressMatch, Dump, Family, InterfaceMatch, Rule } from '../model/dump.js';
import type { AnyNetwork } from '../model/network.js';
import { why, type Purpose } from '../engine/why.js';
import { classifyRule, LIBVIRT_CHAINS, type Classified } from './classify.js';
import { describeRule } from './describe.js';
import { dnatTarget } from '../sim/dnat.js';

/** Which software installed a rule. */
export type Owner = 'libvirt' | 'xen' | 'docker' | 'ufw' | 'firewalld' | 'host';

/** A network as attribution knows it: from a definition (`given`) or seen in a dump (`inferred`). */
export interface NetworkInfo {
  readonly name: string;
  readonly origin: 'given' | 'inferred';
  readonly owner: 'libvirt' | 'xen' | 'docker';
  readonly bridge: string | null;
  readonly subnets: Cidr[];
  /** Xen guest interfaces (vifD.N). */
  readonly vifs: string[];
  /** The definition, when given. */
  readonly definition: AnyNetwork | null;
}

export interface Explained {
  readonly rule: Rule;
  readonly family: Family;
  /** The network the rule belongs to or is about; null for the host's own and shared rules. */
  readonly network: string | null;
  readonly owner: Owner;
  readonly purpose: Purpose | null;
  readonly why: string;
}

export function networksFromDefinitions(networks: readonly AnyNetwork[]): NetworkInfo[] {
  return networks.map((n) =>
    n.kind === 'libvirt'
      ? {
          name: n.name,
          origin: 'given',
          owner: 'libvirt',
          bridge: n.bridge?.name ?? null,
          subnets: n.ips.map((ip) => ip.subnet),
          vifs: [],
          definition: n,
        }
      : {
          name: n.name,
          origin: 'given',
          owner: 'xen',
          bridge: n.bridge,
          subnets: [],
          vifs: n.vifs.map((v) => v.name),
          definition: n,
        },
  );
}

const DOCKER_CHAIN = /^DOCKER(-|$)/;
const DOCKER_BRIDGE = /^(docker\d+|br-[0-9a-f]{12})$/;
const UFW_CHAIN = /^ufw6?-/;
const FIREWALLD_CHAIN =
  /^((INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING)_(direct|ZONES|ZONES_SOURCE)|(IN|FWDI|FWDO|FWD|PRE|POST)_[A-Za-z0-9_-]+)$/;

/** What a chain's (or target's) name says of its owner, once per name: bits DOCKER 1, UFW 2, FIREWALLD 4. */
const chainOwners = new Map<string, number>();
function chainOwnerBits(name: string): number {
  let bits = chainOwners.get(name);
  if (bits === undefined) {
    bits = (DOCKER_CHAIN.test(name) ? 1 : 0) | (UFW_CHAIN.test(name) ? 2 : 0) | (FIREWALLD_CHAIN.test(name) ? 4 : 0);
    if (chainOwners.size < 4096) chainOwners.set(name, bits);
  }
  return bits;
}

function foreignOwner(rule: Rule): Owner | null {
  const bits = chainOwnerBits(rule.chain) | chainOwnerBits(rule.target?.name ?? '');
  if (
    bits & 1 ||
    (rule.inInterface && DOCKER_BRIDGE.test(rule.inInterface.name)) ||
    (rule.outInterface && DOCKER_BRIDGE.test(rule.outInterface.name))
  )
    return 'docker';
  if (bits & 2) return 'ufw';
  if (bits & 4) return 'firewalld';
  return null;
}

/**
 * The rules of dumps in dump order, each with its dump's family and what classifyRule made of it: three lists side by
 * side (an object per rule was 100,000 more objects for a large dump's audit to keep).
 */
export interface Classifications {
  readonly rules: readonly Rule[];
  readonly families: readonly Family[];
  readonly classified: ReadonlyArray<Classified | null>;
}

/** Classification is asked for more than once per rule (inferring networks, then explaining): done once. */
const classifications = new WeakMap<Rule, Classified | null>();

export function classifiedOf(rule: Rule, family: Family): Classified | null {
  let c = classifications.get(rule);
  if (c === undefined) classifications.set(rule, (c = classifyRule(rule, family)));
  return c;
}

/** A dump's rules classified, kept with the dump (one entry, where one per rule cost a WeakMap of 100,000). */
const classifiedDumps = new WeakMap<Dump, Classifications>();

function classifyDump(dump: Dump): Classifications {
  const known = classifiedDumps.get(dump);
  if (known) return known;
  const rules: Rule[] = [];
  const families: Family[] = [];
  const classified: Array<Classified | null> = [];
  const family = dump.family ?? 'ipv4';
  for (const table of dump.tables)
    for (const chain of table.chains) {
      const chainRules = chain.rules;
      for (let i = 0; i < chainRules.length; i++) {
        const rule = chainRules[i]!;
        rules.push(rule);
        families.push(family);
        classified.push(classifyRule(rule, family));
      }
    }
  const out = { rules, families, classified };
  classifiedDumps.set(dump, out);
  return out;
}

/** Every rule of the dumps with its classification, in dump order. */
export function classifyAll(dumps: readonly Dump[]): Classifications {
  if (dumps.length === 1) return classifyDump(dumps[0]!);
  const each = dumps.map(classifyDump);
  return {
    rules: each.flatMap((c) => c.rules),
    families: each.flatMap((c) => c.families),
    classified: each.flatMap((c) => c.classified),
  };
}

/**
 * The given networks plus those the dumps show that no given network covers: a libvirt
 * bridge (with the subnets its forwarding rules name), the Xen guests' vifs, Docker's bridges.
 */
export function inferNetworks(
  dumps: readonly Dump[],
  given: readonly NetworkInfo[] = [],
  seen: Classifications = classifyAll(dumps),
): NetworkInfo[] {
  const known = new Set(given.flatMap((n) => [n.bridge, ...n.vifs]).filter((x): x is string => x !== null));
  const bridges = new Map<string, { subnets: Cidr[]; evidence: Set<Purpose>; private: boolean }>();
  const addBridge = (name: string, c: Classified, chain: string): void => {
    if (known.has(name)) return;
    const entry = bridges.get(name) ?? { subnets: [], evidence: new Set<Purpose>(), private: false };
    if (c.subnet && !entry.subnets.some((x) => cidrEquals(x, c.subnet!))) entry.subnets.push(c.subnet);
    entry.evidence.add(c.purpose);
    if (LIBVIRT_CHAINS.has(chain)) entry.private = true;
    bridges.set(name, entry);
  };
  const vifs: string[] = [];
  const docker = new Set<string>();
  for (let i = 0; i < seen.rules.length; i++) {
    const rule = seen.rules[i]!;
    const classified = seen.classified[i] ?? null;
    if (classified?.bridge && classified.purpose !== 'xen-masquerade')
      addBridge(classified.bridge, classified, rule.chain);
    if (
      classified?.vif &&
      classified.purpose !== 'xen-antispoof-dom0' &&
      !known.has(classified.vif) &&
      !vifs.includes(classified.vif)
    )
      vifs.push(classified.vif);
    dockerBridge(rule.inInterface, docker);
    dockerBridge(rule.outInterface, docker);
  }
  // In built-in chains `-s NET -i IF -j ACCEPT` is any router's rule: an interface counts as a
  // libvirt bridge by its name, its rules in LIBVIRT_* chains, or two of libvirt's catch-alls.
  const libvirtLike = ([name, e]: [string, { evidence: Set<Purpose>; private: boolean }]): boolean =>
    /^virbr\d+$/.test(name) || e.private || CATCH_ALLS.filter((p) => e.evidence.has(p)).length >= 2;
  const inferred: NetworkInfo[] = [...bridges].filter(libvirtLike).map(([bridge, e]) => ({
    name: bridge,
    origin: 'inferred',
    owner: 'libvirt',
    bridge,
    subnets: e.subnets,
    vifs: [],
    definition: null,
  }));
  // libvirt's MASQUERADE triple for a subnet no bridge explains (its filter rules are gone, or never were).
  const covered = new Set([...given, ...inferred].flatMap((n) => n.subnets.map(cidrKey)));
  const natOnly = new Map<string, { subnet: Cidr; evidence: Set<Purpose> }>();
  for (let i = 0; i < seen.classified.length; i++) {
    const classified = seen.classified[i] ?? null;
    if (
      !classified?.subnet ||
      classified.bridge ||
      !['masquerade', 'masquerade-ports', 'snat', 'snat-ports'].includes(classified.purpose)
    )
      continue;
    if (covered.has(cidrKey(classified.subnet))) continue;
    const key = formatCidr(classified.subnet);
    const entry = natOnly.get(key) ?? { subnet: classified.subnet, evidence: new Set<Purpose>() };
    entry.evidence.add(classified.purpose);
    natOnly.set(key, entry);
  }
  for (const [name, e] of natOnly) {
    if (
      (e.evidence.has('masquerade') && e.evidence.has('masquerade-ports')) ||
      (e.evidence.has('snat') && e.evidence.has('snat-ports'))
    ) {
      inferred.push({
        name,
        origin: 'inferred',
        owner: 'libvirt',
        bridge: null,
        subnets: [e.subnet],
        vifs: [],
        definition: null,
      });
    }
  }
  if (vifs.length > 0)
    inferred.push({ name: 'xen', origin: 'inferred', owner: 'xen', bridge: null, subnets: [], vifs, definition: null });
  for (const bridge of docker)
    inferred.push({
      name: bridge === 'docker0' ? 'docker' : `docker:${bridge}`,
      origin: 'inferred',
      owner: 'docker',
      bridge,
      subnets: [],
      vifs: [],
      definition: null,
    });
  return [...given, ...inferred];
}

/** Adds a Docker bridge a rule names (`-i docker0`, `-o br-…`; not a wildcard). */
function dockerBridge(i: InterfaceMatch | null, docker: Set<string>): void {
  if (i && DOCKER_BRIDGE.test(i.name) && !i.name.endsWith('+')) docker.add(i.name);
}

/** A subnet's identity as cidrEquals sees it. */
const cidrKey = (c: Cidr): string => `${c.family}/${c.prefix}/${c.network}/${c.mask ?? ''}`;

const CATCH_ALLS: readonly Purpose[] = ['reject-in', 'reject-out', 'cross-bridge', 'dhcp-in', 'dns-in'];

/**
 * Networks indexed by bridge, vif and subnet, built once per network list: a linear search per rule is too slow for
 * 100,000 rules × 1,000 networks.
 */
interface NetworkIndex {
  readonly networks: readonly NetworkInfo[];
  /** Name → position of the first network with that bridge / vif. */
  readonly bridges: Map<string, number>;
  readonly vifs: Map<string, number>;
  readonly subnets: Map<string, number>;
  /** Per prefix and family: masked network → first position (and the mask), for subnets containing an address. */
  readonly levels: Array<{
    readonly family: number;
    readonly prefix: number;
    readonly mask: bigint;
    readonly map: Map<bigint, number>;
  }>;
  /** Query family × 256 + prefix → (network masked to it → first position), for subnets inside an address range. */
  readonly inside: Map<number, Map<bigint, number>>;
  readonly entries: Array<{ readonly subnet: Cidr; readonly at: number }>;
  readonly xen: NetworkInfo | null;
}

const indexes = new WeakMap<readonly NetworkInfo[], NetworkIndex>();

function firstPositions(
  networks: readonly NetworkInfo[],
  names: (n: NetworkInfo) => Array<string | null>,
): Map<string, number> {
  const map = new Map<string, number>();
  networks.forEach((n, at) => {
    for (const name of names(n)) if (name !== null && !map.has(name)) map.set(name, at);
  });
  return map;
}

function indexOf(networks: readonly NetworkInfo[]): NetworkIndex {
  const cached = indexes.get(networks);
  if (cached) return cached;
  const entries = networks.flatMap((n, at) => n.subnets.map((subnet) => ({ subnet, at })));
  const byPrefix = new Map<number, Array<{ family: number; map: Map<bigint, number> }>>();
  for (const { subnet, at } of entries) {
    const list = byPrefix.get(subnet.prefix) ?? [];
    let slot = list.find((x) => x.family === subnet.family);
    if (!slot) list.push((slot = { family: subnet.family, map: new Map() }));
    if (!slot.map.has(subnet.network)) slot.map.set(subnet.network, at);
    byPrefix.set(subnet.prefix, list);
  }
  const index: NetworkIndex = {
    networks,
    bridges: firstPositions(networks, (n) => [n.bridge]),
    vifs: firstPositions(networks, (n) => n.vifs),
    subnets: firstPositions(networks, (n) => n.subnets.map(formatCidr)),
    levels: [...byPrefix].flatMap(([prefix, slots]) =>
      slots.map((slot) => ({
        family: slot.family,
        prefix,
        mask: maskOf(slot.family as IpFamily, prefix),
        map: slot.map,
      })),
    ),
    inside: new Map(),
    entries,
    xen: networks.find((n) => n.owner === 'xen') ?? null,
  };
  indexes.set(networks, index);
  return index;
}

/** The first network (in list order) with a subnet overlapping `cidr`: one containing it, or one inside it. */
function firstOverlapping(index: NetworkIndex, cidr: Cidr): NetworkInfo | null {
  let best = Infinity;
  for (const level of index.levels) {
    if (level.prefix > cidr.prefix || level.family !== cidr.family) continue;
    const at = level.map.get(cidr.network & level.mask);
    if (at !== undefined && at < best) best = at;
  }
  const key = cidr.family * 256 + cidr.prefix;
  let inside = index.inside.get(key);
  if (!inside) {
    inside = new Map();
    const mask = maskOf(cidr.family, cidr.prefix);
    for (const { subnet, at } of index.entries) {
      if (subnet.family !== cidr.family || subnet.prefix <= cidr.prefix) continue;
      const masked = subnet.network & mask;
      if (!inside.has(masked)) inside.set(masked, at);
    }
    index.inside.set(key, inside);
  }
  const at = inside.get(cidr.network);
  if (at !== undefined && at < best) best = at;
  return best === Infinity ? null : index.networks[best]!;
}

const positioned = (index: NetworkIndex, at: number | undefined): NetworkInfo | null =>
  at === undefined ? null : index.networks[at]!;

/** The network whose bridge or vif an interface names (the first given, when both do). */
function byInterface(index: NetworkIndex, iface: InterfaceMatch | null): NetworkInfo | null {
  if (!iface) return null;
  const a = index.bridges.get(iface.name);
  const b = index.vifs.get(iface.name);
  return positioned(index, a === undefined ? b : b === undefined ? a : Math.min(a, b));
}

/** The first network whose subnet overlaps an address a rule names (not 0/0). */
function byCidr(index: NetworkIndex, addr: AddressMatch | null): NetworkInfo | null {
  return addr && addr.prefix !== 0 ? firstOverlapping(index, addr) : null;
}

/** The network a rule is about: by its classified bridge/vif/subnet, else by any interface or address it names. */
function networkOf(
  rule: Rule,
  family: Family,
  classified: Classified | null,
  networks: readonly NetworkInfo[],
): NetworkInfo | null {
  const index = indexOf(networks);
  if (classified?.bridge) {
    const byBridge = positioned(index, index.bridges.get(classified.bridge));
    if (byBridge) return byBridge;
  }
  if (classified?.vif) {
    const byVif = positioned(index, index.vifs.get(classified.vif));
    if (byVif) return byVif;
  }
  if (classified?.subnet) {
    const bySubnet = positioned(index, index.subnets.get(formatCidr(classified.subnet)));
    if (bySubnet) return bySubnet;
  }
  if (classified?.purpose === 'xen-masquerade' || classified?.purpose === 'xen-antispoof') return index.xen;
  const byIface = byInterface(index, rule.inInterface) ?? byInterface(index, rule.outInterface);
  if (byIface) return byIface;
  for (const m of rule.matches) {
    if (m.name !== 'physdev') continue;
    for (const o of m.options) {
      const port = o.args[0]?.value;
      const hit = port ? positioned(index, index.vifs.get(port)) : null;
      if (hit) return hit;
    }
  }
  const byAddress = byCidr(index, rule.source) ?? byCidr(index, rule.destination);
  if (byAddress) return byAddress;
  // A port forward (DNAT) is about the guest it sends connections to.
  const guest = dnatTarget(rule, family === 'ipv6' ? 6 : 4)?.to;
  if (guest)
    return firstOverlapping(index, {
      family: guest.family,
      network: guest.value,
      prefix: guest.family === 4 ? 32 : 128,
    });
  return null;
}

/** One rule: its network, owner, purpose and sentence. */
export function explainRule(
  rule: Rule,
  family: Family,
  networks: readonly NetworkInfo[],
  found: Classified | null = classifiedOf(rule, family),
): Explained {
  const network = networkOf(rule, family, found, networks);
  const foreign = foreignOwner(rule);
  // A libvirt-shaped rule in a built-in chain about no virtual network is the host's own (a router's `-s NET -i eth1 -j
  // ACCEPT`). So is a bare `-o DEV -j MASQUERADE` when nothing shows Xen (Shorewall, a home router): network-nat's
  // shape, not its proof.
  const orphan =
    found !== null &&
    network === null &&
    !LIBVIRT_CHAINS.has(rule.chain) &&
    found.purpose !== 'chain-setup' &&
    (!found.purpose.startsWith('xen-') || found.purpose === 'xen-masquerade');
  const classified = orphan ? null : found;
  if (classified && !foreign) {
    const owner: Owner = classified.purpose.startsWith('xen-') ? 'xen' : 'libvirt';
    return new ExplainedRule(rule, family, network?.name ?? null, owner, classified.purpose, classified);
  }
  const owner: Owner = foreign ?? (LIBVIRT_CHAINS.has(rule.chain) ? 'libvirt' : 'host');
  return new ExplainedRule(rule, family, network?.name ?? null, owner, null, null);
}

/**
 * The sentence is written when first read (an audit of 100,000 rules reads a few): the engine's for a classified rule
 * (its context with the network), else the generic one. A class: an object literal with a getter cost a microsecond.
 */
class ExplainedRule implements Explained {
  private text: string | undefined = undefined;
  constructor(
    readonly rule: Rule,
    readonly family: Family,
    readonly network: string | null,
    readonly owner: Owner,
    readonly purpose: Purpose | null,
    private readonly classified: Classified | null,
  ) {}

  get why(): string {
    if (this.text === undefined) {
      const c = this.classified;
      this.text = c
        ? why(c.purpose, { ...c.context, ...(this.network !== null ? { network: this.network } : {}) })
        : describeRule(this.rule);
    }
    return this.text;
  }
}

/** Every rule of the dumps, explained, in dump order. */
export function explainDumps(dumps: readonly Dump[], networks: readonly NetworkInfo[]): Explained[] {
  const seen = classifyAll(dumps);
  return seen.rules.map((rule, i) => explainRule(rule, seen.families[i]!, networks, seen.classified[i] ?? null));
}

export function subnetsText(n: NetworkInfo): string {
  return n.subnets.map(formatCidr).join(', ');
}
