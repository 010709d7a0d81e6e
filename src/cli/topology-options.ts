// The topology options `trace` and `diagram` share (declared in spec.ts): what the host around a
// dump looks like (networks, a topology file, uplink, bridges, guests, outside, forwarding switches).

import { dirname, resolve } from 'node:path';
import { parseIpsetSave } from '../../grammar/ipset.js';
import { parseTopologyFile } from '../../grammar/topology.js';
import { parseHost } from '../model/cidr.js';
import { InputError, UsageError } from '../model/errors.js';
import { mergeIpsets } from '../model/ipset.js';
import { decodeText } from '../model/text.js';
import { readNetworkFiles } from '../input/networks.js';
import { evalEnv, parseAssumptions, type EvalEnv } from '../sim/env.js';
import { applyStatements, emptySpec, type Topology, type TopologySpec } from '../sim/topology.js';
import { parseBridgeFlag, parseGuestFlag, parseUplinkFlag } from './topology-flags.js';
import { readNetworkInputs } from './inputs.js';
import type { Io } from './io.js';
import type { Values } from './spec.js';

/** The topology options' values (trace and diagram declare the same ones, spec.ts). */
export type TopologyValues = Pick<
  Values<'trace'>,
  | 'net'
  | 'topology'
  | 'uplink'
  | 'bridge'
  | 'guest'
  | 'outside'
  | 'ip-forward'
  | 'br-netfilter'
  | 'mac'
  | 'ipset'
  | 'assume'
>;

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
      throw new UsageError(
        `${command}: --mac: no guest '${name}'${near ? ` (did you mean '${near}'?)` : guests.length > 0 ? ` (guests: ${guests.join(', ')})` : ''}`,
      );
    }
  }
  return {
    ...topology,
    endpoints: topology.endpoints.map((e) =>
      e.kind === 'guest' && byName.has(e.name) ? { ...e, mac: byName.get(e.name)! } : e,
    ),
  };
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
        return readNetworkFiles([path], io.readBytes, { command });
      } catch (e) {
        if (e instanceof UsageError) throw new InputError(file, pos.line, pos.col, `network ${f}: ${e.message}`);
        throw e;
      }
    });
  }
  if (values.uplink) spec = { ...spec, uplink: parseUplinkFlag(values.uplink) };
  spec = {
    ...spec,
    bridges: [...spec.bridges, ...(values.bridge ?? []).map(parseBridgeFlag)],
    guests: [...spec.guests, ...(values.guest ?? []).map(parseGuestFlag)],
  };
  const outside = (values.outside ?? []).map((o) => {
    const h = parseHost(o);
    if (!h) throw new UsageError(`${command}: --outside: bad address '${o}'`);
    return h;
  });
  if (outside.length > 0) spec = { ...spec, outside: [...spec.outside, ...outside] };
  if (values['ip-forward'] !== undefined) spec = { ...spec, ipForward: values['ip-forward'] === 'on' };
  if (values['br-netfilter'] !== undefined) spec = { ...spec, brNetfilter: values['br-netfilter'] };
  return spec;
}
