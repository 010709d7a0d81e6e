// A sheet's meaning: its declarations resolved against the files it names and the evidence it
// is checked against — which networks (and where each definition came from), which era the
// engine models, the host's uplink and the outside world, the guests with their addresses,
// which firewall(s) to check — plus its assertions. Mistakes in the sheet are positioned
// input errors; evidence that is missing is a problem reported with every assertion.

import { dirname, resolve } from 'node:path';
import { parseSheet, type At, type FirewallSource, type Sheet, type Statement } from '../../grammar/expect.js';
import { iptablesDumpIn, parseDumpText } from '../input/read.js';
import { FLAVORS, type Flavor } from '../engine/program.js';
import { parseVersion } from '../engine/version.js';
import { exactly, isolatedRouter as isolatedRouterOf, type VersionRange } from '../engine/dnsmasq.js';
import { DEFAULT_LEGACY_VERSION } from '../engine/version.js';
import { cidrContains, maskOf, parseCidr, parseHost, type HostAddress } from '../model/cidr.js';
import type { Dump } from '../model/dump.js';
import { InputError } from '../model/errors.js';
import type { AnyNetwork, Network } from '../model/network.js';
import { decodeText } from '../model/text.js';
import { readNetworkFiles } from '../input/networks.js';
import {
  parseLinkAddress,
  type GuestSpec,
  type LinkAddress,
  type TopologySpec,
  type UplinkSpec,
  DEFAULT_OUTSIDE,
  DEFAULT_UPLINK,
  emptySpec,
} from '../sim/topology.js';
import type { Evidence, Found } from './evidence.js';
import type { ReadBytes } from '../input/disk.js';

export type Reach = Extract<Statement, { kind: 'reach' }>;
export type RuleSet = Extract<Statement, { kind: 'rules' }>;
export type Assertion = Reach | RuleSet;

export interface Era {
  readonly flavor: Flavor;
  readonly version: string | null;
  /** `libvirt-legacy 0.6.3`, for messages. */
  readonly label: string;
}

export interface DeclaredNetwork {
  readonly name: string;
  readonly network: AnyNetwork;
  /** The file the definition was read from. */
  readonly file: string;
}

export interface GuestAttachment {
  /** The declared network (or the uplink device) the guest sits on. */
  readonly on: string;
  readonly address: LinkAddress;
  /** The guest's own device name (eth0, eth1, … in order). */
  readonly device: string;
  /** undefined: the default (the host on the first network; none on the others). */
  readonly gateway: HostAddress | null | undefined;
  /** The simulator's endpoint name: the guest's for its first network, GUEST.DEVICE for the others. */
  readonly endpoint: string;
}

export interface Guest {
  readonly name: string;
  readonly attachments: GuestAttachment[];
  readonly at: At;
}

export interface World {
  readonly file: string;
  readonly title: string | null;
  readonly about: string | null;
  readonly networks: DeclaredNetwork[];
  readonly era: Era;
  /** The host's firewall before any network starts (the sheet's `before`, else the evidence's). */
  readonly before: Found<Dump> | null;
  readonly firewall: { readonly sources: FirewallSource[]; readonly at: At } | null;
  readonly guestFirewalls: ReadonlyMap<string, { readonly sources: FirewallSource[]; readonly at: At }>;
  readonly uplink: UplinkSpec;
  readonly outside: HostAddress[];
  readonly guests: Guest[];
  readonly assertions: Assertion[];
  /** Evidence that is missing (a network the answer should define): every assertion fails with these. */
  readonly problems: string[];
  /** Resolves a path written in the sheet (relative to the sheet's directory). */
  readonly path: (file: string) => string;
}

/** The uplink's IPv4 address (sheets describe IPv4 hosts). */
export function uplinkAddress(u: UplinkSpec): LinkAddress {
  return u.addresses.find((a) => a.address.family === 4) ?? u.addresses[0]!;
}

/** The simulator's gateways of an attachment: the default (undefined), none, or the one given. */
export function gatewaysOf(a: GuestAttachment): HostAddress[] | undefined {
  return a.gateway === undefined ? undefined : a.gateway === null ? [] : [a.gateway];
}

/**
 * What is wrong with a dotted-quad address a sheet writes (`192.168.124.300`), or null when it is not one or is fine.
 */
export function addressProblem(text: string): string | null {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(text);
  if (!m) return null;
  const bad = m.slice(1, 5).find((o) => Number(o) > 255);
  if (bad !== undefined) return `'${text}' is not an IPv4 address: ${bad} is not an octet (0-255)`;
  if (m[5] !== undefined && Number(m[5]) > 32) return `'${text}': /${m[5]} is not an IPv4 prefix length (0-32)`;
  return null;
}

function checkAddress(file: string, at: At, text: string | null): void {
  const problem = text === null ? null : addressProblem(text);
  if (problem) fail(file, at, problem);
}

function fail(file: string, at: At, message: string): never {
  throw new InputError(file, at.line, at.col, message);
}

function readNetworkFile(path: string, read: ReadBytes): AnyNetwork[] {
  return readNetworkFiles([path], read, { command: path });
}

function eraOf(file: string, s: Extract<Statement, { kind: 'era' }> | undefined): Era {
  if (!s) return { flavor: 'libvirt', version: null, label: 'libvirt (current)' };
  const flavor = s.flavor.name as Flavor;
  if (!FLAVORS.includes(flavor))
    fail(file, s.flavor.at, `unknown era '${s.flavor.name}' (one of ${FLAVORS.join(', ')})`);
  if (flavor === 'libvirt-nft')
    fail(
      file,
      s.flavor.at,
      'era libvirt-nft: checks compare and trace iptables rules; libvirt 10.4+ with the nftables backend installs none (use libvirt for the iptables backend)',
    );
  if (s.version !== null && !parseVersion(s.version)) fail(file, s.at, `bad version '${s.version}' (X.Y or X.Y.Z)`);
  return { flavor, version: s.version, label: `${flavor}${s.version ? ` ${s.version}` : ''}` };
}

/** The first DHCP address of a libvirt network, else the host's address + 1: where its guest sits by default. */
function defaultAddress(n: Network): LinkAddress | null {
  const ip = n.ips.find((i) => i.family === 4);
  if (!ip) return null;
  const start = ip.dhcpRanges[0]?.start;
  return { address: { family: 4, value: start ? start.value : ip.address.value + 1n }, prefix: ip.subnet.prefix };
}

function close(word: string, known: readonly string[]): string {
  const hit = known.find((k) => k.toLowerCase() === word.toLowerCase() || k.startsWith(word) || word.startsWith(k));
  return hit ? ` (did you mean '${hit}'?)` : known.length > 0 ? ` (known: ${known.join(', ')})` : '';
}

/** Reads a sheet from disk and resolves it against the evidence. */
export function loadSheet(path: string, evidence: Evidence, read: ReadBytes): World {
  const sheet = parseSheet(decodeText(path, read(path)), path);
  return resolveSheet(sheet, evidence, read);
}

export function resolveSheet(sheet: Sheet, evidence: Evidence, read: ReadBytes): World {
  const file = sheet.file;
  /** A file the sheet names, relative to the sheet (an absolute path stays as it is). */
  const path = (f: string): string => resolve(dirname(file), f);
  let statements: Array<{ s: Statement; file: string }> = sheet.statements.map((s) => ({ s, file }));

  // An answer's own setup (its guests and networks) is read in place of its `setup` line.
  statements = statements.flatMap(({ s, file: from }) => {
    if (s.kind !== 'setup') return [{ s, file: from }];
    const text = evidence.text(s.file);
    if (!text.ok) return [{ s, file: from }];
    const included = parseSheet(text.value, text.file);
    for (const x of included.statements) {
      if (!['network', 'guest', 'firewall', 'uplink', 'outside'].includes(x.kind))
        fail(
          text.file,
          x.at,
          "an answer's setup declares networks, guests and their firewalls only (assertions belong in the lab's sheet)",
        );
    }
    return included.statements.map((x) => ({ s: x, file: text.file }));
  });

  const problems: string[] = [];
  /** Networks the evidence should have defined: guests on them are left out (the problem says why). */
  const missing = new Set<string>();
  for (const { s } of statements)
    if (s.kind === 'setup' && !evidence.text(s.file).ok)
      problems.push(`${evidence.origin} has no ${s.file} (the set-up: guests, their addresses and networks)`);

  let title: string | null = null;
  let about: string | null = null;
  const networks: DeclaredNetwork[] = [];
  let eraStatement: Extract<Statement, { kind: 'era' }> | undefined;
  let before: Found<Dump> | null = null;
  let firewall: World['firewall'] = null;
  const guestFirewalls = new Map<string, { sources: FirewallSource[]; at: At }>();
  let uplink: UplinkSpec | null = null;
  let outside: HostAddress[] = [];
  const guestStatements: Array<{ s: Extract<Statement, { kind: 'guest' }>; file: string }> = [];
  const assertions: Assertion[] = [];

  for (const { s, file: from } of statements) {
    switch (s.kind) {
      case 'title':
        title = s.text;
        break;
      case 'about':
        about = s.text;
        break;
      case 'setup':
        break;
      case 'network': {
        if (networks.some((n) => n.name === s.name.name))
          fail(from, s.name.at, `network '${s.name.name}' declared twice`);
        const fromFile = (f: string): DeclaredNetwork => {
          const p = resolve(dirname(from), f);
          const defs = readNetworkFile(p, read);
          const def = defs.find((d) => d.name === s.name.name);
          if (!def)
            fail(
              from,
              s.at,
              `${f} defines ${defs.map((d) => `'${d.name}'`).join(', ') || 'no network'}, not '${s.name.name}'`,
            );
          return { name: s.name.name, network: def, file: p };
        };
        const given = evidence.networks.get(s.name.name);
        if (s.source.kind === 'file') networks.push(fromFile(s.source.file));
        else if (given) networks.push({ name: s.name.name, network: given, file: given.origin.file });
        else if (s.source.kind === 'given-or-file') networks.push(fromFile(s.source.file));
        else {
          problems.push(
            `${evidence.origin} does not define network '${s.name.name}' (a libvirt XML file with <name>${s.name.name}</name>)`,
          );
          missing.add(s.name.name);
        }
        break;
      }
      case 'era':
        if (eraStatement) fail(from, s.at, `era given twice (first at line ${eraStatement.at.line})`);
        eraStatement = s;
        break;
      case 'before': {
        const p = resolve(dirname(from), s.file);
        before = { ok: true, value: readIptablesDump(read(p), p), file: p };
        break;
      }
      case 'firewall':
        if (s.of) {
          if (guestFirewalls.has(s.of.name)) fail(from, s.at, `the firewall of '${s.of.name}' is given twice`);
          guestFirewalls.set(s.of.name, { sources: s.sources, at: s.at });
        } else {
          if (firewall) fail(from, s.at, `the host's firewall is given twice (first at line ${firewall.at.line})`);
          firewall = { sources: s.sources, at: s.at };
        }
        break;
      case 'uplink': {
        checkAddress(from, s.at, s.address);
        checkAddress(from, s.at, s.gateway);
        const address = parseCidr(s.address);
        if (!address || !s.address.includes('/'))
          fail(from, s.at, `the uplink's address needs its prefix (e.g. ${s.address.split('/')[0]}/24)`);
        const host = parseHost(s.address.split('/')[0]!)!;
        const gw = s.gateway ? parseHost(s.gateway) : null;
        uplink = {
          name: s.device,
          addresses: [{ address: host, prefix: address.prefix }],
          gateways: gw ? [gw] : [],
          port: s.port,
        };
        break;
      }
      case 'outside':
        for (const a of s.addresses) checkAddress(from, s.at, a);
        outside = s.addresses.map((a) => parseHost(a.split('/')[0]!)!).filter((a): a is HostAddress => a !== null);
        break;
      case 'guest':
        guestStatements.push({ s, file: from });
        break;
      case 'reach':
      case 'rules':
        assertions.push(s);
        break;
    }
  }

  const era = eraOf(file, eraStatement);
  const up = uplink ?? DEFAULT_UPLINK;
  const guests = guestStatements
    .filter(({ s }) => !s.attachments.some((a) => missing.has(a.network.name)))
    .map(({ s, file: from }) => resolveGuest(from, s, networks, up));
  const seen = new Set<string>();
  for (const g of guests) {
    if (seen.has(g.name)) fail(file, g.at, `guest '${g.name}' declared twice`);
    seen.add(g.name);
  }
  const fromAnswer = statements.some(({ s }) => s.kind === 'setup');
  for (const [name, fw] of guestFirewalls) {
    if (seen.has(name) || guestStatements.some(({ s }) => s.name.name === name)) continue;
    if (fromAnswer) problems.push(`${evidence.origin} declares no guest '${name}' in its set-up`);
    else fail(file, fw.at, `'${name}' is not a declared guest${close(name, [...seen])}`);
  }

  const world: World = {
    file,
    title,
    about,
    networks,
    era,
    before: before ?? evidence.beforeDump(),
    firewall,
    guestFirewalls,
    uplink: up,
    outside: outside.length > 0 ? outside : [parseHost(DEFAULT_OUTSIDE[0]!)!],
    guests,
    assertions,
    problems,
    path,
  };
  for (const a of assertions) validateAssertion(world, a, fromAnswer ? evidence.origin : null);
  return world;
}

function resolveGuest(
  file: string,
  s: Extract<Statement, { kind: 'guest' }>,
  networks: readonly DeclaredNetwork[],
  uplink: UplinkSpec,
): Guest {
  // Listed in any order: with devices named (as eth0, as eth1), eth0 is the guest's first.
  const named = s.attachments.every((a) => a.device !== null && /^\D*\d+$/.test(a.device));
  const devNo = (d: string | null): number => Number(/^\D*(\d+)$/.exec(d ?? '')?.[1] ?? 0);
  const listed = named ? [...s.attachments].sort((x, y) => devNo(x.device) - devNo(y.device)) : s.attachments;
  // A gateway given on one attachment is the guest's default route: the others get none.
  const someGateway = listed.some((a) => a.gateway !== null && a.gateway !== 'none');
  const attachments = listed.map((a, i): GuestAttachment => {
    const declared = networks.find((n) => n.name === a.network.name);
    const onUplink = a.network.name === uplink.name;
    if (!declared && !onUplink)
      fail(
        file,
        a.network.at,
        `guest '${s.name.name}' is on '${a.network.name}', which is neither a declared network nor the uplink${close(a.network.name, [...networks.map((n) => n.name), uplink.name])}`,
      );
    checkAddress(file, a.addressAt ?? a.network.at, a.address);
    if (a.gateway !== null && a.gateway !== 'none') checkAddress(file, a.network.at, a.gateway);
    let address: LinkAddress;
    if (a.address === null) {
      const auto = declared?.network.kind === 'libvirt' ? defaultAddress(declared.network) : null;
      if (!auto)
        fail(
          file,
          a.network.at,
          `give guest '${s.name.name}' an address on '${a.network.name}' (at ADDRESS/PREFIX): the network has none to take it from`,
        );
      address = auto;
    } else {
      const subnetFrom =
        declared?.network.kind === 'libvirt' ? declared.network.ips.find((ip) => ip.family === 4) : undefined;
      const prefix = a.address.includes('/')
        ? undefined
        : (subnetFrom?.subnet.prefix ?? (onUplink ? uplinkAddress(uplink).prefix : undefined));
      try {
        address = parseLinkAddress(a.address, `guest ${s.name.name}`, prefix);
      } catch {
        fail(
          file,
          a.addressAt ?? a.network.at,
          `give the prefix of ${a.address} (e.g. ${a.address}/24): '${a.network.name}' has no address on the host to take it from`,
        );
      }
    }
    const gateway =
      a.gateway === 'none'
        ? null
        : a.gateway !== null
          ? parseHost(a.gateway)
          : i === 0 && !someGateway
            ? undefined
            : null;
    const device = a.device ?? `eth${i}`;
    return {
      on: a.network.name,
      address,
      device,
      gateway,
      endpoint: i === 0 ? s.name.name : `${s.name.name}.${device}`,
    };
  });
  return { name: s.name.name, attachments, at: s.at };
}

/** Node names an assertion may use. */
export function nodeNames(world: World): string[] {
  return ['host', 'outside', ...world.guests.flatMap((g) => g.attachments.map((a) => a.endpoint))];
}

/** `answer`: the guests come from the answer's set-up, so a missing one is the answer's problem, not the sheet's. */
function validateAssertion(world: World, a: Assertion, answer: string | null): void {
  const file = world.file;
  // Missing evidence already fails every assertion; names on the missing networks are not the sheet's mistake.
  if (world.problems.length > 0) return;
  if (a.kind === 'rules') {
    for (const n of a.networks) {
      if (!world.networks.some((d) => d.name === n.name) && !world.problems.some((p) => p.includes(`'${n.name}'`)))
        fail(
          file,
          n.at,
          `'${n.name}' is not a declared network${close(
            n.name,
            world.networks.map((d) => d.name),
          )}`,
        );
    }
    if (a.source.kind === 'engine' && (a.source.word === 'xen') !== world.era.flavor.startsWith('xen')) {
      fail(
        file,
        a.at,
        `"${a.source.word}'s" rules, but the era is ${world.era.label}; say "${world.era.flavor.startsWith('xen') ? "xen's" : "libvirt's"}"`,
      );
    }
    return;
  }
  const known = nodeNames(world);
  for (const h of a.hops) {
    checkAddress(file, h.at, h.node);
    if (known.includes(h.node) || parseHost(h.node.split('/')[0]!)) continue;
    if (answer !== null) {
      const problem = `${answer} declares no guest '${h.node}' in its set-up`;
      if (!world.problems.includes(problem) && world.problems.length === 0) world.problems.push(problem);
      continue;
    }
    fail(file, h.at, `'${h.node}' is not a guest, 'host', 'outside' or an address${close(h.node, known)}`);
  }
  if (world.problems.length > 0) return;
  if (a.bothWays && a.hops.length !== 2) fail(file, a.at, "'<->' joins two ends: write the port forward with '->'");
  if (a.hops.length > 3) fail(file, a.at, 'at most three hops: FROM -> host:PORT -> GUEST:PORT');
  if (a.hops.length === 3) {
    const mid = a.hops[1]!;
    if (mid.node !== 'host')
      fail(file, mid.at, `a port forward goes through the host ('outside -> host:8080 -> vm1:80'), not '${mid.node}'`);
    if (mid.port === null && (mid.service === null || mid.service.proto === 'icmp' || mid.service.proto === 'dns'))
      fail(file, mid.at, "say which port of the host is forwarded ('host:8080' or 'host tcp/8080')");
  }
  if (a.hops.some((h) => h.service?.proto === 'dns') && a.hops.length !== 2)
    fail(file, a.at, "'dns' asks whether names resolve from one node: FROM -> outside dns");
  if (a.via && !world.guestFirewalls.has(a.via.name) && answer === null)
    fail(
      file,
      a.via.at,
      `'via ${a.via.name}': ${a.via.name} is not a guest with its own firewall (declare 'firewall of ${a.via.name} is …')`,
    );
}

/** The simulator's topology of the host: declared networks, uplink, outside and guests. */
export function hostTopologySpec(world: World): TopologySpec {
  const guests: GuestSpec[] = world.guests.flatMap((g) =>
    g.attachments.map((a) => ({
      name: a.endpoint,
      attach: a.on,
      addresses: [a.address],
      gateways: gatewaysOf(a),
      port: null,
      mac: null,
    })),
  );
  // Addresses the assertions name beyond every network of the host belong to the outside world.
  const inside = (a: HostAddress): boolean =>
    world.guests.some((g) => g.attachments.some((x) => x.address.address.value === a.value)) ||
    world.networks.some(
      (n) =>
        n.network.kind === 'libvirt' &&
        n.network.ips.some((ip) => ip.family === a.family && cidrContains(ip.subnet, a)),
    ) ||
    cidrContains(
      {
        family: 4,
        network: uplinkAddress(world.uplink).address.value & maskOf(4, uplinkAddress(world.uplink).prefix),
        prefix: uplinkAddress(world.uplink).prefix,
      },
      a,
    );
  const named = world.assertions
    .flatMap((a) => (a.kind === 'reach' ? a.hops.map((h) => parseHost(h.node)) : []))
    .filter((a): a is HostAddress => a !== null && a.family === 4 && !inside(a));
  const outside = [
    ...world.outside,
    ...named.filter(
      (a, i) => !world.outside.some((o) => o.value === a.value) && named.findIndex((b) => b.value === a.value) === i,
    ),
  ];
  const isolatedRouter = !world.era.flavor.startsWith('xen') && isolatedRouterOf(eraRangeOf(world)) === 'yes';
  return {
    ...emptySpec(),
    networks: world.networks.map((n) => n.network),
    uplink: world.uplink,
    outside,
    guests,
    autoGuests: false,
    isolatedRouter,
  };
}

/** The libvirt releases the sheet's era stands for (the dnsmasq facts depend on them). */
export function eraRangeOf(world: World): VersionRange {
  if (world.era.version) return exactly(world.era.version);
  // The legacy flavour without a version models the last release before 5.1 (as compile does).
  if (world.era.flavor === 'libvirt-legacy') return exactly(DEFAULT_LEGACY_VERSION);
  return { from: '5.1.0', below: null, label: 'libvirt 5.1+' };
}

/** A lab's dump file: iptables-save by contract; nft text or an empty file is named, not misread. */
function readIptablesDump(bytes: Uint8Array, file: string): Dump {
  return iptablesDumpIn('lab', parseDumpText(decodeText(file, bytes), file, { command: 'lab' }));
}
