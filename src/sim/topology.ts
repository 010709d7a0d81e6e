// The host a trace runs on: its interfaces (uplink, bridges, loopback), its routes and
// forwarding switches, and the endpoints around it (guests on bridges, "outside" beyond the
// uplink). Plain data; built from libvirt networks plus flags, or from a topology file.

import { cidrContains, formatHost, maskOf, parseCidr, parseHost, type Cidr, type HostAddress } from '../model/cidr.js';
import { InputError, UsageError } from '../model/errors.js';
import type { TopologyStatement } from '../../grammar/topology.js';
import type { SourcePos } from '../model/dump.js';
import { pushAll } from '../model/lists.js';
import type { AnyNetwork, Network, XenNetwork } from '../model/network.js';

/** An address on a link, with the prefix that makes its subnet (`192.168.124.1/24`). */
export interface LinkAddress {
  readonly address: HostAddress;
  readonly prefix: number;
}

export interface HostInterface {
  readonly name: string;
  readonly role: 'loopback' | 'uplink' | 'bridge' | 'link';
  readonly bridge: boolean;
  readonly addresses: LinkAddress[];
  /** The libvirt network (or Xen set-up) the interface belongs to, for reports. */
  readonly network: string | null;
}

export interface Route {
  readonly dest: Cidr;
  readonly iface: string;
  /** Next hop; null for an on-link (connected) route. */
  readonly via: HostAddress | null;
}

/** A guest, or the outside world, as seen from the host. */
export interface Endpoint {
  readonly name: string;
  readonly kind: 'guest' | 'outside';
  /** Addresses on the link to the host (with their subnet). */
  readonly addresses: LinkAddress[];
  /** Further addresses it owns but that are not on the link (outside's far hosts). */
  readonly extra: HostAddress[];
  /** The host interface the endpoint hangs off: a bridge (through `port`) or a routed link (`port` null). */
  readonly iface: string;
  readonly port: string | null;
  /**
   * Default gateways, at most one per family; none: only its own subnet is reachable (libvirt isolated networks hand
   * out none).
   */
  readonly gateways: HostAddress[];
  /** Extra routes (outside routes the host's subnets through the host's uplink address). */
  readonly routes: Route[];
  readonly mac: string | null;
  readonly network: string | null;
}

export type BrNetfilter = 'on' | 'off' | 'auto';

export interface Topology {
  readonly interfaces: HostInterface[];
  readonly routes: Route[];
  readonly endpoints: Endpoint[];
  readonly ipForward: boolean;
  /** br_netfilter (`bridge-nf-call-iptables`): `auto` = on when the dump uses `-m physdev` (which loads the module). */
  readonly brNetfilter: BrNetfilter;
}

// --- specs: what flags and topology files say -------------------------------------------

export interface UplinkSpec {
  readonly name: string;
  readonly addresses: LinkAddress[];
  /** One per family at most. */
  readonly gateways: HostAddress[];
  /** A bridge uplink (Xen `xenbr0`): the physical port the LAN hangs off, e.g. `peth0`. */
  readonly port: string | null;
}

export interface BridgeSpec {
  readonly name: string;
  readonly addresses: LinkAddress[];
  readonly network: string | null;
}

/** Where a topology file said something (absent: a command-line flag said it). */
export interface Origin {
  readonly file: string;
  readonly pos: SourcePos;
}

/** A content error: at its place in the topology file, or a usage error for a flag. */
function refuse(origin: Origin | undefined, message: string): never {
  if (origin) throw new InputError(origin.file, origin.pos.line, origin.pos.col, message);
  throw new UsageError(message);
}

export interface GuestSpec {
  readonly name: string;
  readonly origin?: Origin;
  /** A bridge or routed interface name (or a libvirt network name, resolved to its bridge). */
  readonly attach: string;
  readonly addresses: LinkAddress[];
  /** undefined: the default (the host's address on the bridge); empty: none. */
  readonly gateways: HostAddress[] | undefined;
  readonly port: string | null;
  readonly mac: string | null;
}

export interface TopologySpec {
  readonly networks: AnyNetwork[];
  readonly uplink: UplinkSpec | null;
  readonly bridges: BridgeSpec[];
  readonly guests: GuestSpec[];
  /** Addresses of the outside world beyond the gateway. */
  readonly outside: HostAddress[];
  readonly routes: Array<Route & { readonly origin?: Origin }>;
  readonly ipForward: boolean | null;
  readonly brNetfilter: BrNetfilter | null;
  /** Place one guest on every network that has none (for matrices). */
  readonly autoGuests: boolean;
  /**
   * Does dnsmasq offer the host as router on isolated networks? libvirt before 0.8.7 (the seed
   * lab's 0.6.3) let dnsmasq offer its own address; later releases send an empty dhcp-option=3.
   */
  readonly isolatedRouter?: boolean;
}

/** The uplink a host has when nothing describes one: eth0=10.0.2.15/24,2001:db8:2::15/64 (QEMU's user network). */
export const DEFAULT_UPLINK: UplinkSpec = {
  name: 'eth0',
  addresses: [
    { address: { family: 4, value: 0x0a00020fn }, prefix: 24 },
    { address: { family: 6, value: 0x20010db8000200000000000000000015n }, prefix: 64 },
  ],
  gateways: [
    { family: 4, value: 0x0a000202n },
    { family: 6, value: 0x20010db8000200000000000000000002n },
  ],
  port: null,
};
export const DEFAULT_OUTSIDE = ['203.0.113.10', '2001:db8:ffff::10'];

export function emptySpec(): TopologySpec {
  return {
    networks: [],
    uplink: null,
    bridges: [],
    guests: [],
    outside: [],
    routes: [],
    ipForward: null,
    brNetfilter: null,
    autoGuests: true,
  };
}

/** `192.168.124.10/24` or `192.168.124.10` (prefix from `defaultPrefix`). */
export function parseLinkAddress(text: string, what: string, defaultPrefix?: number): LinkAddress {
  const slash = text.indexOf('/');
  const host = parseHost(slash < 0 ? text : text.slice(0, slash));
  if (!host) throw new UsageError(`${what}: bad address '${text}'`);
  if (slash < 0) {
    if (defaultPrefix === undefined) throw new UsageError(`${what}: '${text}' needs a prefix (ADDRESS/LEN)`);
    return { address: host, prefix: defaultPrefix };
  }
  const cidr = parseCidr(text);
  if (!cidr) throw new UsageError(`${what}: bad address '${text}'`);
  return { address: host, prefix: cidr.prefix };
}

/** A host address (`10.0.2.2`), or a usage error naming `what`. */
export function parseAddress(text: string, what: string): HostAddress {
  const host = parseHost(text);
  if (!host) throw new UsageError(`${what}: bad address '${text}'`);
  return host;
}

/** A guest's address: with its prefix, or without (prefix -1: the bridge's subnet decides). */
export function guestAddress(text: string, what: string): LinkAddress {
  return text.includes('/') ? parseLinkAddress(text, what) : { address: parseAddress(text, what), prefix: -1 };
}

/** One address per family and a gateway of a family the uplink has. */
export function checkUplink(u: UplinkSpec, what: string): UplinkSpec {
  for (const f of [4, 6] as const) {
    if (u.addresses.filter((a) => a.address.family === f).length > 1)
      throw new UsageError(`${what}: more than one IPv${f} address`);
    if (u.gateways.filter((g) => g.family === f).length > 1)
      throw new UsageError(`${what}: more than one IPv${f} gateway`);
  }
  for (const g of u.gateways) {
    const on = u.addresses.find((a) => a.address.family === g.family);
    if (!on || !cidrContains(subnetOf(on), g))
      throw new UsageError(`${what}: gateway ${formatHost(g.family, g.value)} is not on the uplink's subnet`);
  }
  return u;
}

// --- building -----------------------------------------------------------------------------

function isLibvirt(n: AnyNetwork): n is Network {
  return n.kind === 'libvirt';
}

function subnetOf(a: LinkAddress): Cidr {
  return { family: a.address.family, network: a.address.value & maskOf(a.address.family, a.prefix), prefix: a.prefix };
}

export function linkSubnet(a: LinkAddress): Cidr {
  return subnetOf(a);
}

/** Per family, the first address of a DHCP range, or the host address + 1: where an auto-placed guest sits. */
function autoGuestAddresses(net: Network): LinkAddress[] {
  const out: LinkAddress[] = [];
  for (const family of [4, 6] as const) {
    const ip = net.ips.find((i) => i.family === family);
    if (!ip) continue;
    const start = ip.dhcpRanges[0]?.start;
    out.push({ address: { family, value: start ? start.value : ip.address.value + 1n }, prefix: ip.subnet.prefix });
  }
  return out;
}

/** Builds the topology: networks give bridges (and, with autoGuests, one guest each); flags add the rest. */
/** The guests of a built topology as specs again (auto-placed ones included), to build it anew with more. */
export function guestSpecsOf(topology: Topology): GuestSpec[] {
  return topology.endpoints
    .filter((e) => e.kind === 'guest')
    .map((e) => ({
      name: e.name,
      attach: e.iface,
      addresses: e.addresses,
      gateways: e.gateways,
      port: e.port,
      mac: e.mac,
    }));
}

export function buildTopology(spec: TopologySpec): Topology {
  const interfaces: HostInterface[] = [
    {
      name: 'lo',
      role: 'loopback',
      bridge: false,
      network: null,
      addresses: [
        { address: { family: 4, value: 0x7f000001n }, prefix: 8 },
        { address: { family: 6, value: 1n }, prefix: 128 },
      ],
    },
  ];
  const byName = new Map<string, HostInterface>();
  const add = (i: HostInterface): void => {
    const existing = byName.get(i.name);
    if (existing) {
      // A flag may add addresses to a bridge a network already defined.
      const merged: HostInterface = {
        ...existing,
        addresses: [
          ...existing.addresses,
          ...i.addresses.filter((a) => !existing.addresses.some((b) => b.address.value === a.address.value)),
        ],
      };
      interfaces[interfaces.indexOf(existing)] = merged;
      byName.set(i.name, merged);
      return;
    }
    interfaces.push(i);
    byName.set(i.name, i);
  };

  let uplink = spec.uplink ?? DEFAULT_UPLINK;
  // Xen 3.2+ network-bridge turns the NIC into a bridge of its name, with the card renamed p<name>.
  const xenOnUplink = spec.networks.some(
    (n) => !isLibvirt(n) && n.mode === 'bridge' && (n.bridge ?? n.netdev) === uplink.name,
  );
  if (xenOnUplink && uplink.port === null) uplink = { ...uplink, port: `p${uplink.name}` };
  add({ name: uplink.name, role: 'uplink', bridge: uplink.port !== null, addresses: uplink.addresses, network: null });

  const networkBridge = new Map<string, string>();
  const autoGuests: GuestSpec[] = [];
  const xenRoutes: Route[] = [];
  let vnet = 0;
  for (const net of spec.networks) {
    if (isLibvirt(net)) {
      if (!net.bridge) continue;
      networkBridge.set(net.name, net.bridge.name);
      const hostBridge = net.forward.mode === 'bridge';
      if (hostBridge && net.bridge.name === uplink.name) continue;
      add({
        name: net.bridge.name,
        role: 'bridge',
        bridge: true,
        network: net.name,
        addresses: hostBridge ? [] : net.ips.map((ip) => ({ address: ip.address, prefix: ip.subnet.prefix })),
      });
      const at = autoGuestAddresses(net);
      if (spec.autoGuests && at.length > 0 && !hostBridge) {
        autoGuests.push({
          name: `${net.name}-vm`,
          attach: net.bridge.name,
          addresses: at,
          gateways: undefined,
          port: `vnet${vnet++}`,
          mac: null,
        });
      }
    } else {
      addXen(net, add, autoGuests, uplink, xenRoutes);
    }
  }
  for (const b of spec.bridges)
    add({ name: b.name, role: 'bridge', bridge: true, addresses: b.addresses, network: b.network });

  const resolveAttach = (g: GuestSpec): HostInterface => {
    const iface = byName.get(networkBridge.get(g.attach) ?? g.attach);
    if (!iface)
      refuse(
        g.origin,
        `guest '${g.name}' attached to '${g.attach}': no such bridge or network (known: ${[...byName.keys()].filter((n) => n !== 'lo').join(', ')})`,
      );
    return iface;
  };

  const endpoints: Endpoint[] = [];
  const named = new Map<string, GuestSpec>();
  const explicitOn = new Set(spec.guests.map((g) => resolveAttach(g).name));
  const guests = [...autoGuests.filter((g) => !explicitOn.has(g.attach)), ...spec.guests];
  let portNo = vnet;
  for (const g of guests) {
    const iface = resolveAttach(g);
    const addresses = g.addresses.map((a) => {
      if (a.prefix >= 0) return a;
      // No prefix given: take the bridge subnet's that contains it, else a host route.
      const on = iface.addresses.find(
        (h) => h.address.family === a.address.family && cidrContains(subnetOf(h), a.address),
      );
      return { address: a.address, prefix: on ? on.prefix : a.address.family === 4 ? 32 : 128 };
    });
    const onUplinkLan = iface.name === uplink.name;
    // libvirt's dnsmasq hands guests of an isolated network no router (an empty dhcp-option=3), in the eras that say
    // so.
    const isolated =
      !spec.isolatedRouter &&
      spec.networks.some((n) => isLibvirt(n) && n.bridge?.name === iface.name && n.forward.mode === 'none');
    const families = new Set(addresses.map((a) => a.address.family));
    const defaults = onUplinkLan
      ? uplink.gateways
      : isolated
        ? []
        : iface.addresses.filter((a) => families.has(a.address.family)).map((a) => a.address);
    // One gateway per family: the first address the bridge has in it.
    const gateways = (g.gateways ?? defaults).filter((x, i, all) => all.findIndex((y) => y.family === x.family) === i);
    const first = named.get(g.name);
    if (first)
      refuse(
        g.origin,
        `guest '${g.name}' given twice${first.origin ? ` (first at line ${first.origin.pos.line})` : ''}`,
      );
    named.set(g.name, g);
    endpoints.push({
      name: g.name,
      kind: 'guest',
      addresses,
      extra: [],
      iface: iface.name,
      port: iface.bridge ? (g.port ?? `vnet${portNo++}`) : null,
      gateways,
      routes: [],
      mac: g.mac,
      network: iface.network,
    });
  }

  // Outside: the LAN gateway on the uplink, plus far hosts behind it; it routes every host-side subnet back through the
  // host.
  const outsideAddrs = spec.outside.length > 0 ? spec.outside : DEFAULT_OUTSIDE.map((a) => parseAddress(a, 'outside'));
  const hostSideRoutes: Route[] = [];
  for (const i of interfaces) {
    if (i.role === 'loopback' || i.name === uplink.name) continue;
    for (const a of i.addresses) {
      const up = uplink.addresses.find((u) => u.address.family === a.address.family);
      if (up) hostSideRoutes.push({ dest: subnetOf(a), iface: 'lan', via: up.address });
    }
  }
  // vif-nat and vif-route guests sit behind the host too (network-route: the LAN gateway's static route).
  for (const r of xenRoutes) {
    const up = uplink.addresses.find((u) => u.address.family === r.dest.family);
    if (up) hostSideRoutes.push({ dest: r.dest, iface: 'lan', via: up.address });
  }
  endpoints.push({
    name: 'outside',
    kind: 'outside',
    addresses: uplink.gateways.map((g) => ({
      address: g,
      prefix: uplink.addresses.find((a) => a.address.family === g.family)!.prefix,
    })),
    extra: outsideAddrs,
    iface: uplink.name,
    port: uplink.port,
    gateways: [],
    routes: hostSideRoutes,
    mac: null,
    network: null,
  });

  const routes: Route[] = [];
  for (const i of interfaces)
    for (const a of i.addresses)
      if (i.role !== 'loopback') routes.push({ dest: subnetOf(a), iface: i.name, via: null });
  for (const r of spec.routes) {
    // A route without a device goes out of the interface whose subnet holds the next hop.
    const iface =
      r.iface !== ''
        ? r.iface
        : interfaces.find(
            (i) =>
              r.via && i.addresses.some((a) => a.address.family === r.via!.family && cidrContains(subnetOf(a), r.via!)),
          )?.name;
    if (!iface)
      refuse(
        r.origin,
        `route to ${formatHost(r.dest.family, r.dest.network)}/${r.dest.prefix}: no interface reaches ${r.via ? formatHost(r.via.family, r.via.value) : '?'}`,
      );
    routes.push({ dest: r.dest, iface, via: r.via });
  }
  routes.push(...xenRoutes);
  for (const g of uplink.gateways)
    routes.push({ dest: { family: g.family, network: 0n, prefix: 0 }, iface: uplink.name, via: g });

  return {
    interfaces,
    routes,
    endpoints,
    // libvirt turns forwarding on when a nat/route network starts; virtualisation hosts have it on.
    ipForward: spec.ipForward ?? true,
    brNetfilter: spec.brNetfilter ?? 'auto',
  };
}

/**
 * Xen: network-bridge puts the host and the vifs on one bridge with the NIC as port. vif-nat
 * and vif-route give each vif its own routed link: the host takes an address on it (vif-nat's
 * router_ip, the guest's address with 127 added to its last octet; vif-route's uplink address)
 * and routes the guest's `ip=` (prefix included, as `ip route add` is given it) out of it.
 */
function addXen(
  net: XenNetwork,
  add: (i: HostInterface) => void,
  guests: GuestSpec[],
  uplink: UplinkSpec,
  routes: Route[],
): void {
  for (const vif of net.vifs) {
    // One endpoint per vif: a domain's first interface is `domD`, its others `domD.N`.
    const name = vif.devid === 0 ? `dom${vif.domid}` : `dom${vif.domid}.${vif.devid}`;
    // A vif ip= without a prefix takes its bridge subnet's (resolved with the bridge), else /32.
    const addrs = vif.ips.map((ip) => guestAddress(ip, `vif ${vif.name}`));
    if (net.mode === 'bridge') {
      const bridge = vif.bridge ?? net.bridge ?? net.netdev;
      if (bridge !== uplink.name) add({ name: bridge, role: 'bridge', bridge: true, addresses: [], network: net.name });
      guests.push({ name, attach: bridge, addresses: addrs, gateways: undefined, port: vif.name, mac: vif.mac });
      continue;
    }
    const first = addrs.find((a) => a.address.family === 4);
    const host =
      net.mode === 'nat'
        ? first
          ? natRouterAddress(first.address)
          : null
        : (uplink.addresses.find((a) => a.address.family === 4)?.address ?? null);
    add({
      name: vif.name,
      role: 'link',
      bridge: false,
      addresses: host ? [{ address: host, prefix: 32 }] : [],
      network: net.name,
    });
    for (const ip of vif.ips) {
      const dest = parseCidr(ip);
      if (dest) routes.push({ dest, iface: vif.name, via: null });
    }
    guests.push({ name, attach: vif.name, addresses: addrs, gateways: host ? [host] : [], port: null, mac: vif.mac });
  }
}

/** vif-nat's router_ip: awk adds 127 to the address's fourth field (10.0.3.1 → 10.0.3.128). */
function natRouterAddress(guest: HostAddress): HostAddress {
  return { family: 4, value: (guest.value & ~0xffn) | ((guest.value + 127n) & 0xffn) };
}

// --- queries ------------------------------------------------------------------------------

// --- topology files --------------------------------------------------------------------------

/** Adds a topology file's statements to a spec; `loadNetworks` reads the `network FILE` lines. */
export function applyStatements(
  spec: TopologySpec,
  statements: readonly TopologyStatement[],
  file: string,
  loadNetworks: (file: string, pos: SourcePos) => AnyNetwork[],
): TopologySpec {
  // Collected in place: a copy of every list per statement was quadratic in the file's length.
  const networks = [...spec.networks];
  const bridges = [...spec.bridges];
  const guests = [...spec.guests];
  const outside = [...spec.outside];
  const routes = [...spec.routes];
  let { uplink, ipForward, brNetfilter } = spec;
  for (const st of statements) {
    const origin = { file, pos: st.pos };
    switch (st.kind) {
      case 'uplink':
        try {
          uplink = checkUplink(
            { name: st.name, addresses: st.addresses, gateways: st.gateways, port: st.port },
            'uplink',
          );
        } catch (e) {
          if (e instanceof UsageError) throw new InputError(file, st.pos.line, st.pos.col, e.message);
          throw e;
        }
        break;
      case 'bridge':
        bridges.push({ name: st.name, addresses: st.addresses, network: null });
        break;
      case 'network':
        pushAll(networks, loadNetworks(st.file, st.pos));
        break;
      case 'guest':
        guests.push({
          name: st.name,
          attach: st.attach,
          addresses: st.addresses,
          gateways: st.gateways,
          port: st.port,
          mac: st.mac,
          origin,
        });
        break;
      case 'outside':
        pushAll(outside, st.addresses);
        break;
      case 'route':
        routes.push({ dest: st.dest, iface: st.dev ?? '', via: st.via, origin });
        break;
      case 'ip_forward':
        ipForward = st.on;
        break;
      case 'br_netfilter':
        brNetfilter = st.value;
        break;
    }
  }
  return { ...spec, networks, bridges, guests, outside, routes, uplink, ipForward, brNetfilter };
}
