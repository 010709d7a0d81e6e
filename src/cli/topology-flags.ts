// The flag forms of the topology options (`--uplink`, `--guest`, `--bridge`): each one text into
// the spec sim/topology.ts builds a host from.

import type { HostAddress } from '../model/cidr.js';
import { UsageError } from '../model/errors.js';
import {
  guestAddress,
  parseAddress,
  parseLinkAddress,
  checkUplink,
  type BridgeSpec,
  type GuestSpec,
  type UplinkSpec,
} from '../sim/topology.js';

/** `--uplink eth0=10.3.3.50/24[,2001:db8::50/64][,gw=10.3.3.1][,gw=2001:db8::1][,port=peth0]` */
export function parseUplinkFlag(text: string): UplinkSpec {
  const [head, ...rest] = text.split(',');
  const eq = (head ?? '').indexOf('=');
  if (eq <= 0)
    throw new UsageError(`--uplink: expected NAME=ADDRESS/LEN[,ADDRESS/LEN][,gw=ADDRESS][,port=NAME], got '${text}'`);
  const name = head!.slice(0, eq);
  const addresses = [parseLinkAddress(head!.slice(eq + 1), '--uplink')];
  const gateways: HostAddress[] = [];
  let port: string | null = null;
  for (const part of rest) {
    const [key, value] = part.split('=');
    if (key === 'gw' && value) gateways.push(parseAddress(value, '--uplink gw'));
    else if (key === 'port' && value) port = value;
    else if (value === undefined && key) addresses.push(parseLinkAddress(key, '--uplink'));
    else throw new UsageError(`--uplink: unknown part '${part}' (expected ADDRESS/LEN, gw=ADDRESS or port=NAME)`);
  }
  return checkUplink({ name, addresses, gateways, port }, '--uplink');
}

/** `--guest vm1@virbr2=192.168.124.10[/24][,ADDRESS…][,gw=…|,gw=none][,port=vnet0][,mac=…]` */
export function parseGuestFlag(text: string): GuestSpec {
  const m = /^([^@=,\s]+)@([^=,\s]+)=([^,\s]+)((?:,[^,\s]+)*)$/.exec(text);
  if (!m)
    throw new UsageError(
      `--guest: expected NAME@BRIDGE=ADDRESS[/LEN][,gw=ADDRESS|none][,port=NAME][,mac=MAC], got '${text}'`,
    );
  const [, name, attach, addr, tail] = m;
  const addresses = [guestAddress(addr!, '--guest')];
  let gateways: HostAddress[] | undefined;
  let port: string | null = null;
  let mac: string | null = null;
  for (const part of (tail ?? '').split(',').filter(Boolean)) {
    const [key, value] = part.split('=');
    if (key === 'gw' && value === 'none') gateways = [];
    else if (key === 'gw' && value) gateways = [...(gateways ?? []), parseAddress(value, '--guest gw')];
    else if (key === 'port' && value) port = value;
    else if (key === 'mac' && value && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(value)) mac = value.toLowerCase();
    else if (value === undefined && key) addresses.push(guestAddress(key, '--guest'));
    else throw new UsageError(`--guest: unknown part '${part}'`);
  }
  return { name: name!, attach: attach!, addresses, gateways, port, mac };
}

/** `--bridge virbr3[=192.168.200.1/24]` */
export function parseBridgeFlag(text: string): BridgeSpec {
  const eq = text.indexOf('=');
  if (eq < 0) return { name: text, addresses: [], network: null };
  const addresses = text
    .slice(eq + 1)
    .split(',')
    .filter(Boolean)
    .map((a) => parseLinkAddress(a, '--bridge'));
  return { name: text.slice(0, eq), addresses, network: null };
}
