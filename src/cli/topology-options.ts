// The topology options `trace` and `diagram` share: what the host around a dump looks like
// (networks, a topology file, uplink, bridges, guests, outside, the forwarding switches).

import { dirname, resolve } from 'node:path';
import { parseIpsetSave } from '../../grammar/ipset.js';
import { parseTopologyFile } from '../../grammar/topology.js';
import { parseHost } from '../model/cidr.js';
import { InputError, UsageError } from '../model/errors.js';
import { mergeIpsets } from '../model/ipset.js';
import { decodeText } from '../model/text.js';
import { readNetworksBytes } from '../network/libvirt.js';
import { evalEnv, parseAssumptions, type EvalEnv } from '../sim/env.js';
import {
  applyStatements, emptySpec, parseBridgeFlag, parseGuestFlag, parseUplinkFlag, type BrNetfilter, type Topology, type TopologySpec,
} from '../sim/topology.js';
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
  --br-netfilter on|off|auto   iptables sees bridged traffic (auto: on when the dump uses physdev)

What the rules are evaluated against (a condition no input decides is followed both ways):
  --mac GUEST=MAC       the MAC address a guest sends from (-m mac, MAC members of ipsets; repeatable)
  --ipset FILE          \`ipset save\` output: -m set and -j SET decided by the sets' members (repeatable)
  --assume WHAT         state no input shows (repeatable): 'recent empty' (every -m recent list starts
                        empty), 'limit under' or 'limit over' (rate limits under / over their rate)`;

export const TOPOLOGY_OPTIONS: OptionSpec = {
  net: { type: 'string', multiple: true },
  topology: { type: 'string' },
  uplink: { type: 'string' },
  bridge: { type: 'string', multiple: true },
  guest: { type: 'string', multiple: true },
  outside: { type: 'string', multiple: true },
  'ip-forward': { type: 'string' },
  'br-netfilter': { type: 'string' },
  mac: { type: 'string', multiple: true },
  ipset: { type: 'string', multiple: true },
  assume: { type: 'string', multiple: true },
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
  mac?: string[];
  ipset?: string[];
  assume?: string[];
}

/** --ipset and --assume: what rules are compiled against besides the dump. */
export function evalEnvOf(command: string, values: TopologyValues, io: Io): EvalEnv {
  const saves = (values.ipset ?? []).map((file) => parseIpsetSave(decodeText(file, io.readBytes(file)), file));
  return evalEnv({ ipsets: mergeIpsets(saves), assume: parseAssumptions(command, values.assume ?? []) });
}

/** --mac GUEST=MAC: the guests' MAC addresses, on the built topology (auto-placed guests included). */
export function withMacs(command: string, topology: Topology, values: TopologyValues): Topology {
  const macs = values.mac ?? [];
  if (macs.length === 0) return topology;
  const byName = new Map<string, string>();
  for (const text of macs) {
    const m = /^([^=\s]+)=([0-9a-f]{2}(?::[0-9a-f]{2}){5})$/i.exec(text);
    if (!m) throw new UsageError(`${command}: --mac: expected GUEST=MAC (52:54:00:12:34:56), got '${text}'`);
    byName.set(m[1]!, m[2]!.toLowerCase());
  }
  const guests = topology.endpoints.filter((e) => e.kind === 'guest').map((e) => e.name);
  for (const name of byName.keys()) {
    if (!guests.includes(name)) {
      const near = guests.find((g) => g.startsWith(name) || name.startsWith(g));
      throw new UsageError(`${command}: --mac: no guest '${name}'${near ? ` (did you mean '${near}'?)` : guests.length > 0 ? ` (guests: ${guests.join(', ')})` : ''}`);
    }
  }
  return { ...topology, endpoints: topology.endpoints.map((e) => (e.kind === 'guest' && byName.has(e.name) ? { ...e, mac: byName.get(e.name)! } : e)) };
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
