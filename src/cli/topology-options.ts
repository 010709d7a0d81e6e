// The topology options `trace` and `diagram` share: what the host around a dump looks like
// (networks, a topology file, uplink, bridges, guests, outside, the forwarding switches).

import { dirname, resolve } from 'node:path';
import { parseTopologyFile } from '../../grammar/topology.js';
import { parseHost } from '../model/cidr.js';
import { InputError, UsageError } from '../model/errors.js';
import { decodeText } from '../model/text.js';
import { readNetworksBytes } from '../network/libvirt.js';
import { applyStatements, emptySpec, type BrNetfilter, type TopologySpec } from '../sim/topology.js';
import { parseBridgeFlag, parseGuestFlag, parseUplinkFlag } from './topology-flags.js';
import { oneOf, type OptionSpec } from './args.js';
import { readNetworkInputs } from './inputs.js';
import type { Io } from './io.js';

export const TOPOLOGY_HELP = `Topology (what the host looks like; see docs/commands/trace.md):
  --net FILE            a libvirt network XML: its bridge and addresses (repeatable); each
                        network gets a guest '<name>-vm' unless --guest places one there.
                        Xen: a xend-config.sxp and guest configurations (domains 1, 2, …)
  --topology FILE       a topology file (uplink, bridge, network, guest, outside, route, …)
  --uplink SPEC         NAME=ADDRESS/LEN[,gw=ADDRESS][,port=NAME]   (default eth0=10.0.2.15/24,gw=10.0.2.2)
  --bridge SPEC         NAME[=ADDRESS/LEN,…]  a bridge no network file describes
  --guest SPEC          NAME@BRIDGE=ADDRESS[/LEN][,gw=ADDRESS|none][,port=NAME][,mac=MAC]
  --outside ADDRESS     an address of the outside world (default 203.0.113.10)
  --ip-forward on|off   (default on)
  --br-netfilter on|off|auto   iptables sees bridged traffic (auto: on when the dump uses physdev)`;

export const TOPOLOGY_OPTIONS: OptionSpec = {
  net: { type: 'string', multiple: true },
  topology: { type: 'string' },
  uplink: { type: 'string' },
  bridge: { type: 'string', multiple: true },
  guest: { type: 'string', multiple: true },
  outside: { type: 'string', multiple: true },
  'ip-forward': { type: 'string' },
  'br-netfilter': { type: 'string' },
};

export interface TopologyValues {
  net?: string[];
  topology?: string;
  uplink?: string;
  bridge?: string[];
  guest?: string[];
  outside?: string[];
  'ip-forward'?: string;
  'br-netfilter'?: string;
}

/** The topology the options describe (`command` names the command in usage errors). */
export function topologySpec(command: string, values: TopologyValues, io: Io): TopologySpec {
  let spec = emptySpec();
  spec = { ...spec, networks: readNetworkInputs(command, values.net ?? [], io) };
  if (values.topology) {
    const file = values.topology;
    const statements = parseTopologyFile(decodeText(file, io.readBytes(file)), file);
    spec = applyStatements(spec, statements, file, (f, pos) => {
      const path = resolve(dirname(file), f);
      try {
        return readNetworksBytes(io.readBytes(path), path);
      } catch (e) {
        if (e instanceof UsageError) throw new InputError(file, pos.line, pos.col, `network ${f}: ${e.message}`);
        throw e;
      }
    });
  }
  if (values.uplink) spec = { ...spec, uplink: parseUplinkFlag(values.uplink) };
  spec = { ...spec, bridges: [...spec.bridges, ...(values.bridge ?? []).map(parseBridgeFlag)], guests: [...spec.guests, ...(values.guest ?? []).map(parseGuestFlag)] };
  const outside = (values.outside ?? []).map((o) => {
    const h = parseHost(o);
    if (!h) throw new UsageError(`${command}: --outside: bad address '${o}'`);
    return h;
  });
  if (outside.length > 0) spec = { ...spec, outside: [...spec.outside, ...outside] };
  if (values['ip-forward'] !== undefined) spec = { ...spec, ipForward: oneOf(command, '--ip-forward', values['ip-forward'], ['on', 'off'] as const, 'on') === 'on' };
  if (values['br-netfilter'] !== undefined) spec = { ...spec, brNetfilter: oneOf<BrNetfilter>(command, '--br-netfilter', values['br-netfilter'], ['on', 'off', 'auto'], 'auto') };
  return spec;
}
