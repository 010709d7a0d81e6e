// The topology options `trace` and `diagram` share (declared in spec.ts): what the host around a
// dump looks like (networks, a topology file, uplink, bridges, guests, outside, forwarding switches).

import { dirname, resolve } from 'node:path';
import { parseTopologyFile } from '../../grammar/topology.js';
import { parseHost } from '../model/cidr.js';
import { InputError, UsageError } from '../model/errors.js';
import { decodeText } from '../model/text.js';
import { readNetworksBytes } from '../network/libvirt.js';
import { applyStatements, emptySpec, type TopologySpec } from '../sim/topology.js';
import { parseBridgeFlag, parseGuestFlag, parseUplinkFlag } from './topology-flags.js';
import { readNetworkInputs } from './inputs.js';
import type { Io } from './io.js';
import type { Values } from './spec.js';

/** The topology options' values (trace and diagram declare the same ones, spec.ts). */
export type TopologyValues = Pick<Values<'trace'>, 'net' | 'topology' | 'uplink' | 'bridge' | 'guest' | 'outside' | 'ip-forward' | 'br-netfilter'>;

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
  if (values['ip-forward'] !== undefined) spec = { ...spec, ipForward: values['ip-forward'] === 'on' };
  if (values['br-netfilter'] !== undefined) spec = { ...spec, brNetfilter: values['br-netfilter'] };
  return spec;
}
