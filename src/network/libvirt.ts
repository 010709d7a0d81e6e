// libvirt's <network> XML → Network, with libvirt's defaults and libvirt's own validation
// (virNetworkDefParseXML in src/conf/network_conf.c, and virSocketAddrGetRange for DHCP
// ranges): the same checks in the same order, the same message texts, each positioned at
// the element or attribute at fault. A file may hold several <network> documents one after
// the other, or libvirt's status XML (<networkstatus> wrapping a <network>).

import { match } from 'ts-pattern';
import {
  attributeOf,
  childElements,
  firstChild,
  parseXml,
  parseXmlBytes,
  textContent,
  type XmlAttribute,
  type XmlDocument,
  type XmlElement,
} from '../../grammar/network-xml.js';
import { classfulPrefix, formatHost, maskOf, parseHost, prefixOfMask, type HostAddress } from '../model/cidr.js';
import type { SourcePos } from '../model/dump.js';
import { InputError } from '../model/errors.js';
import {
  FORWARD_MODES,
  isVirtualMode,
  type Bridge,
  type Dns,
  type Forward,
  type ForwardMode,
  type IpConfig,
  type Nat,
  type Network,
} from '../model/network.js';

/** Reads every <network> in a file (one, several concatenated, or a <networkstatus>). */
export function readNetworks(text: string, file: string): Network[] {
  return networksOf(parseXml(text, file));
}

export function readNetworksBytes(bytes: Uint8Array, file: string): Network[] {
  return networksOf(parseXmlBytes(bytes, file));
}

function networksOf(doc: XmlDocument): Network[] {
  if (doc.roots.length === 0) throw new InputError(doc.file, 1, 1, 'no <network> element found (empty input?)');
  return doc.roots.map((root) => {
    if (root.name === 'networkstatus') {
      const inner = firstChild(root, 'network');
      if (!inner)
        throw new InputError(doc.file, root.pos.line, root.pos.col, 'status XML <networkstatus> holds no <network>');
      return readNetwork(inner, doc.file);
    }
    if (root.name !== 'network')
      throw new InputError(
        doc.file,
        root.pos.line,
        root.pos.col,
        `expected a libvirt <network> definition, found <${root.name}>`,
      );
    return readNetwork(root, doc.file);
  });
}

// ---------------------------------------------------------------------------------------------
// How libvirt reads values

type At = XmlElement | XmlAttribute;

class Reader {
  constructor(readonly file: string) {}

  fail(at: At | SourcePos, message: string): never {
    const pos = 'pos' in at ? at.pos : at;
    throw new InputError(this.file, pos.line, pos.col, message);
  }

  /** virXPathString: an empty value counts as absent. */
  xpath(element: XmlElement | undefined, name: string): XmlAttribute | null {
    const attr = element && attributeOf(element, name);
    return attr && attr.value !== '' ? attr : null;
  }

  /** virXMLPropString: present even when empty. */
  prop(element: XmlElement | undefined, name: string): XmlAttribute | null {
    return (element && attributeOf(element, name)) ?? null;
  }

  /** virXMLPropTristateBool: absent → null, 'yes'/'no', anything else an error. */
  tristate(element: XmlElement | undefined, name: string): boolean | null {
    const attr = this.prop(element, name);
    if (!attr) return null;
    if (attr.value === 'yes') return true;
    if (attr.value === 'no') return false;
    return this.fail(attr, `Invalid value for attribute '${name}' in element '${element!.name}': '${attr.value}'.`);
  }

  /** virXMLPropUInt (base 10): absent → null. */
  uint(element: XmlElement, name: string): number | null {
    const attr = this.prop(element, name);
    if (!attr) return null;
    const n = parseUnsigned(attr.value, 10);
    if (n === null || n > 0xffffffff)
      this.fail(
        attr,
        `Invalid value for attribute '${name}' in element '${element.name}': '${attr.value}'. Expected non-negative integer value`,
      );
    return n;
  }
}

/** strtoul as libvirt's virStrToLong_ui* use it: optional leading blanks and '+', the whole string a number. */
function parseUnsigned(text: string, base: 0 | 10): number | null {
  const m = /^[ \t\n\r\f\v]*\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!m) return null;
  const digits = m[1]!;
  let n: number;
  if (base === 10) {
    if (!/^[0-9]+$/.test(digits)) return null;
    n = Number(digits);
  } else if (/^0[xX]/.test(digits)) {
    n = parseInt(digits.slice(2), 16);
  } else if (digits.startsWith('0')) {
    n = parseInt(digits, 8);
  } else {
    n = Number(digits);
  }
  return Number.isSafeInteger(n) ? n : null;
}

/** virMacAddrParse: six groups of one or two hex digits; printed lower-case, zero-padded, as libvirt does. */
function parseMac(text: string): { text: string; multicast: boolean } | null {
  const parts = text.split(':');
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) return null;
  const bytes = parts.map((p) => parseInt(p, 16));
  return { text: bytes.map((b) => b.toString(16).padStart(2, '0')).join(':'), multicast: (bytes[0]! & 1) === 1 };
}

/** virUUIDParse: 32 hex digits, dashes allowed between byte pairs, blanks around. */
function parseUuid(text: string): string | null {
  const trimmed = text.trim();
  const hex = trimmed.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex) || /^-|--|-$/.test(trimmed)) return null;
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const show = (a: HostAddress): string => formatHost(a.family, a.value);

/** The message getaddrinfo(AI_NUMERICHOST) gives libvirt for a string that is no address. */
const cannotParse = (text: string): string => `Cannot parse socket address '${text}': Name or service not known`;

// ---------------------------------------------------------------------------------------------
// <network>

function readNetwork(root: XmlElement, file: string): Network {
  const r: Reader = new Reader(file);

  const nameElement = firstChild(root, 'name');
  const name = nameElement ? textContent(nameElement) : '';
  if (!nameElement || name === '') r.fail(nameElement ?? root, 'missing name information');
  if (name.includes('/')) r.fail(nameElement!, 'invalid char in name: /');

  const uuidElement = firstChild(root, 'uuid');
  let uuid: string | null = null;
  if (uuidElement && textContent(uuidElement) !== '') {
    uuid = parseUuid(textContent(uuidElement));
    if (uuid === null) r.fail(uuidElement, 'malformed uuid element');
  }

  const title = firstChild(root, 'title');
  if (title && textContent(title).includes('\n')) r.fail(title, "Network title can't contain newlines");

  const ipv6Attr = r.xpath(root, 'ipv6');
  if (ipv6Attr && ipv6Attr.value !== 'yes' && ipv6Attr.value !== 'no')
    r.fail(ipv6Attr, `Invalid ipv6 setting '${ipv6Attr.value}' in network '${name}'`);
  r.tristate(root, 'trustGuestRxFilters');

  const domainElement = firstChild(root, 'domain');
  const domainName = r.prop(domainElement, 'name');
  const localOnly = r.tristate(domainElement, 'localOnly');

  r.tristate(firstChild(root, 'port'), 'isolated');

  const bridgeElement = firstChild(root, 'bridge');
  const bridgeName = r.xpath(bridgeElement, 'name');
  const zone = r.xpath(bridgeElement, 'zone');
  const stpAttr = r.xpath(bridgeElement, 'stp');
  const delayAttr = r.xpath(bridgeElement, 'delay');
  let delay = 0;
  if (delayAttr) {
    const n = parseUnsigned(delayAttr.value, 10);
    if (n === null) r.fail(delayAttr, `Invalid delay value in network '${name}'`);
    delay = n;
  }
  const macTableAttr = r.xpath(bridgeElement, 'macTableManager');
  if (macTableAttr && macTableAttr.value !== 'kernel' && macTableAttr.value !== 'libvirt') {
    r.fail(macTableAttr, `Invalid macTableManager setting '${macTableAttr.value}' in network '${name}'`);
  }

  const macAttr = r.xpath(firstChild(root, 'mac'), 'address');
  let mac: string | null = null;
  if (macAttr) {
    const parsed = parseMac(macAttr.value);
    if (!parsed) r.fail(macAttr, `Invalid bridge mac address '${macAttr.value}' in network '${name}'`);
    if (parsed.multicast)
      r.fail(macAttr, `Invalid multicast bridge mac address '${macAttr.value}' in network '${name}'`);
    mac = parsed.text;
  }

  const mtuAttr = r.xpath(firstChild(root, 'mtu'), 'size');
  let mtu: number | null = null;
  if (mtuAttr) {
    const n = parseUnsigned(mtuAttr.value, 10);
    if (n === null || n > 0xffffffff) r.fail(mtuAttr, `Invalid mtu size '${mtuAttr.value}' in network '${name}'`);
    mtu = n;
  }

  const dnsElement = firstChild(root, 'dns');
  const dns = dnsElement
    ? readDns(r, name, dnsElement)
    : { enable: true, forwardPlainNames: null, forwarders: [], hosts: [], srv: [], txt: [] };

  for (const group of childElements(root, 'portgroup')) {
    if (!r.xpath(group, 'name')) r.fail(group, 'Missing required name attribute in portgroup');
  }

  const ips = childElements(root, 'ip').map((ip) => readIp(r, name, ip));

  const forwardElement = firstChild(root, 'forward');
  const forward = forwardElement
    ? readForward(r, name, forwardElement)
    : { forward: noForward(), ifCount: 0, pfCount: 0, firstIf: null };
  const mode = forward.forward.mode;
  const at = forwardElement ?? root;

  // Settings that must agree with the forward mode (virNetworkDefParseXML's switch).
  match(mode)
    .with('none', () => undefined)
    .with('route', 'nat', 'open', () => {
      if (ips.length === 0)
        r.fail(at, `${mode} forwarding requested, but no IP address provided for network '${name}'`);
      if (forward.ifCount > 1)
        r.fail(at, `multiple forwarding interfaces specified for network '${name}', only one is supported`);
      if (mode === 'open' && forward.ifCount > 0)
        r.fail(forward.firstIf ?? at, `forward dev not allowed for network '${name}' with forward mode='${mode}'`);
    })
    .with('private', 'vepa', 'passthrough', 'hostdev', 'bridge', () => {
      if (mode !== 'bridge') {
        if (bridgeName) r.fail(bridgeName, `bridge name not allowed in ${mode} mode (network '${name}')`);
        if (zone) r.fail(zone, `bridge zone not allowed in ${mode} mode (network '${name}')`);
        if (macTableAttr)
          r.fail(macTableAttr, `bridge macTableManager setting not allowed in ${mode} mode (network '${name}')`);
      }
      const extra = (delay !== 0 ? delayAttr : null) ?? stpAttr ?? zone;
      if (extra)
        r.fail(
          extra,
          `bridge delay/stp/zone options only allowed in route, nat, and isolated mode, not in ${mode} (network '${name}')`,
        );
      if (bridgeName && (forward.ifCount > 0 || forward.pfCount > 0)) {
        r.fail(
          bridgeName,
          `A network with forward mode='${mode}' can specify a bridge name or a forward dev, but not both (network '${name}')`,
        );
      }
    })
    .exhaustive();

  if (mtu && !isVirtualMode(mode)) {
    r.fail(
      mtuAttr!,
      `mtu size only allowed in open, route, nat, and isolated mode, not in ${mode} (network '${name}')`,
    );
  }

  // Not a parse error in libvirt, but the network can never start: the kernel's IFNAMSIZ is 16.
  if (bridgeName && !bridgeName.value.includes('%d') && bridgeName.value.length > 15) {
    r.fail(
      bridgeName,
      `bridge name '${bridgeName.value}' is too long (${bridgeName.value.length} characters; a Linux interface name has at most 15, so libvirt cannot create it: "Network interface name '${bridgeName.value}' is too long")`,
    );
  }

  // Without a name libvirt picks a free virbrN when the network is defined: unknown here.
  const bridge: Bridge | null = bridgeName
    ? {
        name: bridgeName.value,
        stp: stpAttr?.value !== 'off',
        delay,
        zone: zone?.value ?? null,
        macTableManager: macTableAttr?.value ?? null,
      }
    : null;

  const connections = r.prop(root, 'connections');
  return {
    kind: 'libvirt',
    name,
    uuid,
    forward: forward.forward,
    bridge,
    mac,
    domain: domainName ? { name: domainName.value, localOnly: localOnly === true } : null,
    dns,
    ips,
    ipv6: ipv6Attr?.value === 'yes',
    mtu: mtu || null,
    connections: connections
      ? (parseUnsigned(connections.value, 10) ??
        r.fail(connections, `Invalid connections count '${connections.value}' in network '${name}'`))
      : null,
    origin: { file, pos: root.pos },
  };
}

// ---------------------------------------------------------------------------------------------
// <ip> with <dhcp> and <tftp>

function readIp(r: Reader, network: string, element: XmlElement): IpConfig {
  const familyAttr = r.xpath(element, 'family');
  const addressAttr = r.xpath(element, 'address');
  if (!addressAttr) r.fail(element, `Missing required address attribute in network '${network}'`);
  const address = parseHost(addressAttr.value);
  if (!address) r.fail(addressAttr, `Invalid address '${addressAttr.value}' in network '${network}'`);
  const netmaskAttr = r.xpath(element, 'netmask');
  const netmask = netmaskAttr ? parseHost(netmaskAttr.value) : null;
  if (netmaskAttr && !netmask) r.fail(netmaskAttr, `Invalid netmask '${netmaskAttr.value}' in network '${network}'`);
  const prefixAttr = r.prop(element, 'prefix');
  const prefixGiven = r.uint(element, 'prefix') ?? 0;
  r.tristate(element, 'localPtr');

  const family = familyAttr?.value ?? null;
  if (family === null || family === 'ipv4') {
    if (address.family !== 4)
      r.fail(
        addressAttr,
        `${family === null ? 'no' : 'ipv4'} family specified for non-IPv4 address '${addressAttr.value}' in network '${network}'`,
      );
    if (netmaskAttr) {
      if (netmask!.family !== 4)
        r.fail(
          netmaskAttr,
          `Invalid netmask '${netmaskAttr.value}' for address '${addressAttr.value}' in network '${network}' (both must be IPv4)`,
        );
      if (prefixGiven > 0)
        r.fail(prefixAttr!, `Network '${network}' IP address cannot have both a prefix and a netmask`);
    } else if (prefixGiven > 32) {
      r.fail(prefixAttr!, `Invalid IPv4 prefix '${prefixGiven}' in network '${network}'`);
    }
  } else if (family === 'ipv6') {
    if (address.family !== 6)
      r.fail(
        addressAttr,
        `Family 'ipv6' specified for non-IPv6 address '${addressAttr.value}' in network '${network}'`,
      );
    if (netmaskAttr)
      r.fail(netmaskAttr, `netmask not allowed for IPv6 address '${addressAttr.value}' in network '${network}'`);
    if (prefixGiven > 128) r.fail(prefixAttr!, `Invalid IPv6 prefix '${prefixGiven}' in network '${network}'`);
  } else {
    r.fail(familyAttr!, `Unrecognized family '${family}' in network '${network}'`);
  }

  // virSocketAddrGetIPPrefix: prefix, else netmask, else classful (IPv4) or 64 (IPv6).
  let prefix: number;
  if (prefixGiven > 0) {
    prefix = prefixGiven;
  } else if (netmask) {
    const bits = prefixOfMask(4, netmask.value);
    if (bits === null)
      r.fail(
        netmaskAttr!,
        `netmask '${netmaskAttr!.value}' of network '${network}' is not contiguous (libvirt cannot compute a prefix from it)`,
      );
    prefix = bits;
  } else if (address.family === 4) {
    if (address.value === 0n) prefix = 0;
    else if (address.value >> 24n >= 224n)
      r.fail(
        addressAttr,
        `address '${addressAttr.value}' of network '${network}' has no classful prefix (class D/E); give prefix= or netmask=`,
      );
    else prefix = classfulPrefix(address.value);
  } else {
    prefix = address.value === 0n ? 0 : 64;
  }
  const subnet = { family: address.family, network: address.value & maskOf(address.family, prefix), prefix };

  const dhcpRanges: Array<{ start: HostAddress; end: HostAddress }> = [];
  const dhcpHosts: Array<{ mac: string | null; name: string | null; ip: HostAddress | null }> = [];
  let bootp: string | null = null;
  const dhcp = firstChild(element, 'dhcp');
  if (dhcp) {
    for (const range of childElements(dhcp, 'range')) dhcpRanges.push(readRange(r, network, range, address, prefix));
    for (const host of childElements(dhcp, 'host')) dhcpHosts.push(readDhcpHost(r, network, host, address));
    const bootpElement = firstChild(dhcp, 'bootp');
    if (bootpElement && address.family === 4) {
      const fileAttr = r.prop(bootpElement, 'file');
      if (!fileAttr) r.fail(bootpElement, "Missing required attribute 'file' in element 'bootp'");
      const server = r.prop(bootpElement, 'server');
      if (server && !parseHost(server.value)) r.fail(server, cannotParse(server.value));
      bootp = fileAttr.value;
    }
  }

  let tftpRoot: string | null = null;
  const tftp = firstChild(element, 'tftp');
  if (tftp) {
    if (address.family !== 4) r.fail(tftp, `Unsupported <tftp> element in an IPv6 element in network '${network}'`);
    tftpRoot = r.xpath(tftp, 'root')?.value ?? null;
  }

  return {
    family: address.family,
    address,
    subnet,
    dhcpRanges,
    dhcpHosts,
    tftpRoot,
    bootp,
    origin: { file: r.file, pos: element.pos },
  };
}

/** virNetworkDHCPRangeDefParseXML + virSocketAddrGetRange: both ends inside the subnet, in order. */
function readRange(
  r: Reader,
  network: string,
  element: XmlElement,
  ip: HostAddress,
  prefix: number,
): { start: HostAddress; end: HostAddress } {
  const startAttr = r.prop(element, 'start');
  if (!startAttr) r.fail(element, `Missing 'start' attribute in dhcp range for network '${network}'`);
  const start = parseHost(startAttr.value);
  if (!start) r.fail(startAttr, cannotParse(startAttr.value));
  const endAttr = r.prop(element, 'end');
  if (!endAttr) r.fail(element, `Missing 'end' attribute in dhcp range for network '${network}'`);
  const end = parseHost(endAttr.value);
  if (!end) r.fail(endAttr, cannotParse(endAttr.value));
  checkRange(r, element, start, end, { address: ip, prefix });
  const lease = firstChild(element, 'lease');
  if (lease) readLease(r, lease);
  return { start, end };
}

function checkRange(
  r: Reader,
  at: XmlElement,
  start: HostAddress,
  end: HostAddress,
  within: { address: HostAddress; prefix: number } | null,
): void {
  const range = `${show(start)} - ${show(end)}`;
  if (start.family !== end.family) r.fail(at, `mismatch of address family in range ${range}`);
  if (within) {
    const net = show(within.address);
    if (start.family !== within.address.family)
      r.fail(at, `mismatch of address family in range ${range} for network ${net}`);
    const mask = maskOf(start.family, within.prefix);
    const base = within.address.value & mask;
    if ((start.value & mask) !== base || (end.value & mask) !== base)
      r.fail(at, `range ${range} is not entirely within network ${net}/${within.prefix}`);
    if (start.family === 4) {
      if (start.value === base)
        r.fail(at, `start of range ${range} in network ${net}/${within.prefix} is the network address`);
      if (end.value === (base | (~mask & 0xffffffffn)))
        r.fail(at, `end of range ${range} in network ${net}/${within.prefix} is the broadcast address`);
    }
  }
  // libvirt's legacy size check: all but the last two bytes (IPv4) or the last group (IPv6) equal.
  if (start.value >> 16n !== end.value >> 16n) r.fail(at, `range ${range} is too large (> 65535)`);
  if (end.value < start.value)
    r.fail(at, start.family === 4 ? `range ${range} is reversed` : `range ${range} start larger than end`);
}

function readLease(r: Reader, lease: XmlElement): void {
  const expiryAttr = r.prop(lease, 'expiry');
  if (!expiryAttr) return;
  const expiry = parseUnsigned(expiryAttr.value, 10);
  if (expiry === null)
    r.fail(
      expiryAttr,
      `Invalid value for attribute 'expiry' in element 'lease': '${expiryAttr.value}'. Expected non-negative integer value`,
    );
  const unitAttr = r.prop(lease, 'unit');
  const unit = unitAttr?.value ?? 'minutes';
  if (!['seconds', 'minutes', 'hours'].includes(unit))
    r.fail(unitAttr!, `Invalid value for attribute 'unit' in element 'lease': '${unit}'.`);
  if (expiry > 0 && ((unit === 'seconds' && expiry < 120) || (unit === 'minutes' && expiry < 2))) {
    r.fail(expiryAttr, 'The minimum lease time should be greater than 2 minutes');
  }
}

function readDhcpHost(
  r: Reader,
  network: string,
  element: XmlElement,
  ip: HostAddress,
): { mac: string | null; name: string | null; ip: HostAddress | null } {
  const macAttr = r.prop(element, 'mac');
  let mac: string | null = null;
  if (macAttr) {
    if (ip.family === 6)
      r.fail(
        macAttr,
        `Invalid to specify MAC address '${macAttr.value}' in network '${network}' IPv6 static host definition`,
      );
    const parsed = parseMac(macAttr.value);
    if (!parsed) r.fail(macAttr, `Cannot parse MAC address '${macAttr.value}' in network '${network}'`);
    if (parsed.multicast)
      r.fail(macAttr, `expected unicast mac address, found multicast '${macAttr.value}' in network '${network}'`);
    mac = macAttr.value;
  }
  const idAttr = r.prop(element, 'id');
  if (idAttr) {
    const bad = /[^0-9a-fA-F:]/.exec(idAttr.value);
    if (bad) r.fail(idAttr, `Invalid character '${bad[0]}' in id '${idAttr.value}' of network '${network}'`);
  }
  const nameAttr = r.prop(element, 'name');
  if (nameAttr && !/^[A-Za-z0-9]/.test(nameAttr.value))
    r.fail(nameAttr, `Cannot use host name '${nameAttr.value}' in network '${network}'`);
  const ipAttr = r.prop(element, 'ip');
  const hostIp = ipAttr ? parseHost(ipAttr.value) : null;
  if (ipAttr && !hostIp) r.fail(ipAttr, `Invalid IP address in static host definition for network '${network}'`);
  if (ip.family === 6) {
    if (!idAttr && !nameAttr)
      r.fail(element, `Static host definition in IPv6 network '${network}' must have id or name attribute`);
  } else if (!macAttr && !nameAttr) {
    r.fail(element, `Static host definition in IPv4 network '${network}' must have mac or name attribute`);
  }
  if (!ipAttr) r.fail(element, `Missing IP address in static host definition for network '${network}'`);
  const lease = firstChild(element, 'lease');
  if (lease) readLease(r, lease);
  return { mac, name: nameAttr?.value ?? null, ip: hostIp };
}

// ---------------------------------------------------------------------------------------------
// <dns>

/** SRV service/protocol characters libvirt accepts (a '.' would break the record). */
const SERVICE_CHARS = /^[A-Za-z0-9_\-+/*]*$/;
const PROTOCOL_CHARS = /^[A-Za-z0-9\-+/]*$/;
const DNS_RECORD_LENGTH_SRV = 512 - 30;

function readDns(r: Reader, network: string, element: XmlElement): Dns {
  const enable = r.tristate(element, 'enable');
  const forwardPlainNames = r.tristate(element, 'forwardPlainNames');

  const forwarders = childElements(element, 'forwarder').map((fwd) => {
    const addr = r.prop(fwd, 'addr');
    if (addr && !parseHost(addr.value))
      r.fail(addr, `Invalid forwarder IP address '${addr.value}' in network '${network}'`);
    const domain = r.prop(fwd, 'domain');
    if (!addr && !domain) r.fail(fwd, 'Invalid forwarder element, must contain at least one of addr or domain');
    return { addr: addr?.value ?? null, domain: domain?.value ?? null };
  });

  const hosts = childElements(element, 'host').map((host) => {
    const names = childElements(host, 'hostname');
    const hostnames = names.map((h) => {
      const text = textContent(h);
      if (text === '') r.fail(h, `Missing hostname in network '${network}' DNS HOST record`);
      return text;
    });
    if (names.length === 0) r.fail(host, `Missing hostname in network '${network}' DNS HOST record`);
    const ip = r.prop(host, 'ip');
    if (!ip) r.fail(host, `Missing IP address in network '${network}' DNS HOST record`);
    if (!parseHost(ip.value)) r.fail(ip, `Invalid IP address in network '${network}' DNS HOST record`);
    return { ip: ip.value, hostnames };
  });

  const srv = childElements(element, 'srv').map((record) => {
    const service = r.prop(record, 'service');
    if (!service) r.fail(record, `missing required service attribute in DNS SRV record of network '${network}'`);
    if (service.value.length > DNS_RECORD_LENGTH_SRV) {
      r.fail(
        service,
        `service attribute '${service.value}' in network '${network}' is too long, limit is ${DNS_RECORD_LENGTH_SRV} bytes`,
      );
    }
    if (!SERVICE_CHARS.test(service.value))
      r.fail(
        service,
        `invalid character in service attribute '${service.value}' in DNS SRV record of network '${network}'`,
      );
    const protocol = r.prop(record, 'protocol');
    if (!protocol)
      r.fail(
        record,
        `missing required protocol attribute in DNS SRV record '${service.value}' of network '${network}'`,
      );
    if (!PROTOCOL_CHARS.test(protocol.value))
      r.fail(
        protocol,
        `invalid character in protocol attribute '${protocol.value}' in DNS SRV record of network '${network}'`,
      );
    const target = r.prop(record, 'target');
    let port: number | null = null;
    for (const [attrName, what, max] of [
      ['port', 'port', 65535],
      ['priority', 'priority', 65535],
      ['weight', 'weight', 65535],
    ] as const) {
      const attr = r.xpath(record, attrName);
      if (!attr) continue;
      const n = parseUnsigned(attr.value, 10);
      if (n !== null && !target)
        r.fail(
          attr,
          `DNS SRV ${what} attribute not permitted without target for service '${service.value}' in network '${network}'`,
        );
      const invalid = n === null || n > max || (attrName === 'port' && n < 1);
      if (invalid)
        r.fail(
          attr,
          `${attrName === 'priority' ? 'Invalid' : 'invalid'} DNS SRV ${what} attribute for service '${service.value}' in network '${network}'`,
        );
      if (attrName === 'port') port = n;
    }
    return { service: service.value, protocol: protocol.value, target: target?.value ?? null, port };
  });

  const txt = childElements(element, 'txt').map((record) => {
    const nameAttr = r.prop(record, 'name');
    if (!nameAttr) r.fail(record, `missing required name attribute in DNS TXT record of network ${network}`);
    if (/[ ,]/.test(nameAttr.value))
      r.fail(nameAttr, `prohibited character in DNS TXT record name '${nameAttr.value}' of network ${network}`);
    const value = r.prop(record, 'value');
    if (!value)
      r.fail(
        record,
        `missing required value attribute in DNS TXT record named '${nameAttr.value}' of network ${network}`,
      );
    return { name: nameAttr.value, value: value.value };
  });

  if (enable === false) {
    const extra = childElements(element).find((c) => ['forwarder', 'host', 'srv', 'txt'].includes(c.name));
    if (extra) r.fail(extra, `Extra data in disabled network '${network}'`);
  }
  return { enable: enable !== false, forwardPlainNames, forwarders, hosts, srv, txt };
}

// ---------------------------------------------------------------------------------------------
// <forward>

function noForward(): Forward {
  return { mode: 'none', dev: null, nat: null, interfaces: [], pf: null };
}

const DEFAULT_NAT: Nat = { addressStart: null, addressEnd: null, portStart: 1024, portEnd: 65535, ipv6: false };

function isForwardMode(text: string): text is ForwardMode {
  return (FORWARD_MODES as readonly string[]).includes(text);
}

function readForward(
  r: Reader,
  network: string,
  element: XmlElement,
): { forward: Forward; ifCount: number; pfCount: number; firstIf: At | null } {
  // <forward/> without a mode is NAT.
  const modeAttr = r.xpath(element, 'mode');
  const mode: ForwardMode =
    modeAttr === null
      ? 'nat'
      : isForwardMode(modeAttr.value)
        ? modeAttr.value
        : r.fail(modeAttr, `unknown forwarding type '${modeAttr.value}'`);

  const driver = firstChild(element, 'driver');
  const driverName = r.xpath(driver, 'name');
  if (driverName && driverName.value !== 'kvm' && driverName.value !== 'vfio') {
    r.fail(driverName, `Unknown forward <driver name='${driverName.value}'/> in network ${network}`);
  }

  const ifElements = childElements(element, 'interface');
  const addrElements = childElements(element, 'address');
  const pfElements = childElements(element, 'pf');
  const natElements = childElements(element, 'nat');
  if (natElements.length > 1)
    r.fail(natElements[1]!, `Only one <nat> element is allowed in <forward> of network ${network}`);
  let nat: Nat | null = mode === 'nat' ? DEFAULT_NAT : null;
  if (natElements.length === 1) nat = readNat(r, network, natElements[0]!, mode);

  const devAttr = r.xpath(element, 'dev');
  if (devAttr && (addrElements.length > 0 || pfElements.length > 0)) {
    r.fail(
      devAttr,
      `the <forward> 'dev' attribute cannot be used when <address> or <pf> sub-elements are present in network ${network}`,
    );
  }

  // <forward dev> is the first of the interfaces; every <interface dev> follows, once each.
  const interfaces: string[] = [];
  let pf: string | null = null;
  let pciCount = 0;
  if (ifElements.length > 0 || devAttr) {
    if (devAttr) interfaces.push(devAttr.value);
    ifElements.forEach((iface, i) => {
      const dev = r.prop(iface, 'dev');
      if (!dev) r.fail(iface, `Missing required dev attribute in <forward> <interface> element of network ${network}`);
      if (i === 0 && devAttr) {
        if (dev.value !== devAttr.value)
          r.fail(
            dev,
            `<forward dev='${devAttr.value}'> must match first <interface dev='${dev.value}'/> in network ${network}`,
          );
        return;
      }
      if (interfaces.includes(dev.value))
        r.fail(dev, `interface '${dev.value}' can only be listed once in network ${network}`);
      interfaces.push(dev.value);
    });
  } else if (addrElements.length > 0) {
    const seen: string[] = [];
    for (const address of addrElements) {
      const type = r.prop(address, 'type');
      if (!type) r.fail(address, `missing address type in network ${network}`);
      if (!['none', 'pci', 'netdev'].includes(type.value))
        r.fail(type, `unknown address type '${type.value}' in network ${network}`);
      if (type.value !== 'pci') r.fail(type, `unsupported address type '${type.value}' in network ${network}`);
      const pci = readPciAddress(r, address);
      if (seen.includes(pci)) r.fail(address, `PCI device '${pci}' can only be listed once in network ${network}`);
      seen.push(pci);
    }
    pciCount = seen.length;
  } else if (pfElements.length > 1) {
    r.fail(pfElements[1]!, `Only one <pf> element is allowed in <forward> of network ${network}`);
  } else if (pfElements.length === 1) {
    const dev = r.prop(pfElements[0]!, 'dev');
    if (!dev) r.fail(pfElements[0]!, `Missing required dev attribute in <pf> element of network '${network}'`);
    pf = dev.value;
  }

  return {
    forward: { mode, dev: interfaces[0] ?? null, nat, interfaces, pf },
    ifCount: interfaces.length + pciCount,
    pfCount: pf === null ? 0 : 1,
    firstIf: devAttr ?? ifElements[0] ?? addrElements[0] ?? null,
  };
}

function readNat(r: Reader, network: string, element: XmlElement, mode: ForwardMode): Nat {
  if (mode !== 'nat')
    r.fail(element, `The <nat> element can only be used when <forward> 'mode' is 'nat' in network ${network}`);
  const ipv6 = r.tristate(element, 'ipv6') === true;

  const addresses = childElements(element, 'address');
  if (addresses.length > 1)
    r.fail(addresses[1]!, `Only one <address> element is allowed in <nat> in <forward> in network ${network}`);
  let addressStart: HostAddress | null = null;
  let addressEnd: HostAddress | null = null;
  const address = addresses[0];
  if (address) {
    const startAttr = r.prop(address, 'start');
    if (!startAttr)
      r.fail(address, `missing 'start' attribute in <address> element in <nat> in <forward> in network ${network}`);
    const endAttr = r.prop(address, 'end');
    if (!endAttr)
      r.fail(address, `missing 'end' attribute in <address> element in <nat> in <forward> in network ${network}`);
    addressStart = parseHost(startAttr.value);
    if (addressStart?.family !== 4)
      r.fail(startAttr, `Bad ipv4 start address '${startAttr.value}' in <nat> in <forward> in network '${network}'`);
    addressEnd = parseHost(endAttr.value);
    if (addressEnd?.family !== 4)
      r.fail(endAttr, `Bad ipv4 end address '${endAttr.value}' in <nat> in <forward> in network '${network}'`);
    checkRange(r, address, addressStart, addressEnd, null);
  }

  const ports = childElements(element, 'port');
  if (ports.length > 1)
    r.fail(ports[1]!, `Only one <port> element is allowed in <nat> in <forward> in network ${network}`);
  let portStart = DEFAULT_NAT.portStart;
  let portEnd = DEFAULT_NAT.portEnd;
  const port = ports[0];
  if (port) {
    const startAttr = r.xpath(port, 'start');
    const start = startAttr ? parseUnsigned(startAttr.value, 10) : null;
    if (start === null || start > 65535)
      r.fail(
        startAttr ?? port,
        `Missing or invalid 'start' attribute in <port> in <nat> in <forward> in network ${network}`,
      );
    const endAttr = r.xpath(port, 'end');
    const end = endAttr ? parseUnsigned(endAttr.value, 10) : null;
    if (end === null || end > 65535 || end < start)
      r.fail(
        endAttr ?? port,
        `Missing or invalid 'end' attribute in <port> in <nat> in <forward> in network ${network}`,
      );
    // libvirt stores 0-0 as "not given" and then masquerades to its default range.
    if (start !== 0 || end !== 0) {
      portStart = start;
      portEnd = end;
    }
  }
  return { addressStart, addressEnd, portStart, portEnd, ipv6 };
}

/** virPCIDeviceAddressParseXML: domain, bus, slot, function (base 0), within PCI's limits. */
function readPciAddress(r: Reader, element: XmlElement): string {
  const limits = { domain: 0xffff, bus: 0xff, slot: 0x1f, function: 7 } as const;
  const values: Record<keyof typeof limits, number> = { domain: 0, bus: 0, slot: 0, function: 0 };
  for (const key of Object.keys(limits) as Array<keyof typeof limits>) {
    const attr = r.prop(element, key);
    if (!attr) continue;
    const n = parseUnsigned(attr.value, 0);
    if (n === null) r.fail(attr, `Cannot parse <address> '${key}' attribute`);
    if (n > limits[key])
      r.fail(attr, `Invalid PCI address ${key}='0x${n.toString(16)}', must be <= 0x${limits[key].toString(16)}`);
    values[key] = n;
  }
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  return `${hex(values.domain, 4)}:${hex(values.bus, 2)}:${hex(values.slot, 2)}.${values.function.toString(16)}`;
}
