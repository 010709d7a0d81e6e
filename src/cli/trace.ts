// virtables trace DUMP --from X --to Y [--proto P] [--dport N]   (one packet and its reply)
// virtables trace DUMP --matrix [--services …]                   (every pair, every service)

import { explainRule } from '../explain/attribute.js';
import { explainNftTables } from '../explain/nft-explain.js';
import { parseHost, type IpFamily } from '../model/cidr.js';
import type { Dump } from '../model/dump.js';
import { UsageError } from '../model/errors.js';
import { hostDumps, type Host } from '../model/host.js';
import { compileHost } from '../sim/compile.js';
import { describeInputs, iptablesDumpOf, readHost } from './inputs.js';
import { DEFAULT_SERVICES, parseServices, reachabilityMatrix } from '../sim/matrix.js';
import { matrixJson, matrixText, traceJson, traceText, type Why } from '../sim/report.js';
import { prepare, trace, type Proto } from '../sim/trace.js';
import type { Args } from './spec.js';
import { dumpTopology } from './dump-topology.js';
import type { Io } from './io.js';
import { evalEnvOf, topologySpec, withMacs } from './topology-options.js';

function port(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535)
    throw new UsageError(`trace: ${flag} must be a port number (0-65535), got '${text}'`);
  return Number(text);
}

export async function run({ values, positionals }: Args<'trace'>, io: Io): Promise<number> {
  const format = values.format ?? 'text';
  if (positionals.length === 0) throw new UsageError("trace: give the host's dump(s) (or - for standard input)");
  if (values.matrix && (values.from || values.to))
    throw new UsageError('trace: --matrix traces every pair; drop --from/--to');
  if (!values.matrix && (!values.from || !values.to)) throw new UsageError('trace: give --from and --to (or --matrix)');
  const host = readHost('trace', positionals, io);
  const family = familyOf(host, [values.from, values.to]);
  const dump = family === 6 ? host.ipv6 : host.ipv4;
  if (!dump && !host.nft && hostDumps(host).length > 0)
    throw new UsageError(`trace: ${describeInputs(host)} holds no IPv${family} rules`);
  const iptables = dump ?? (host.nft ? null : iptablesDumpOf('trace', host));
  // An nft-only host completes its topology from no iptables rules (its networks come from --net).
  const base: Dump = iptables ?? {
    file: host.nft!.file,
    family: family === 6 ? 'ipv6' : 'ipv4',
    tables: [],
    comments: [],
  };
  const built = dumpTopology(topologySpec('trace', values, io), base, values.uplink !== undefined);
  const { notes, networks } = built;
  const topology = withMacs('trace', built.topology, values);
  const sim = prepare(
    compileHost({ iptables, nft: host.nft }, family, { env: evalEnvOf('trace', values, io) }),
    topology,
  );
  // Each deciding rule is explained as explain/diff/audit explain it: by its network and purpose.
  const nftWhy = new Map(
    host.nft ? explainNftTables(host.nft.tables, networks).map((e) => [e.rule, e.why] as const) : [],
  );
  const why: Why = (r) =>
    r.rule ? explainRule(r.rule, family === 6 ? 'ipv6' : 'ipv4', networks).why : (nftWhy.get(r.nft!.rule) ?? '');

  if (values.matrix) {
    const services = values.services ? parseServices(values.services) : DEFAULT_SERVICES;
    const m = reachabilityMatrix(sim, services);
    io.stdout(
      format === 'json'
        ? JSON.stringify({ ...matrixJson(sim, m, why), topology: { notes } }, null, 2) + '\n'
        : matrixText(m) + notesText(notes),
    );
    return 0;
  }
  const proto: Proto = values.proto ?? 'tcp';
  if (proto === 'icmp' && (values.dport || values.sport)) throw new UsageError('trace: icmp has no ports');
  const state = values.state ?? 'NEW';
  const dport = port('--dport', values.dport);
  const sport = port('--sport', values.sport);
  const r = trace(sim, {
    from: values.from!,
    to: values.to!,
    proto,
    state,
    ...(dport !== undefined ? { dport } : {}),
    ...(sport !== undefined ? { sport } : {}),
  });
  io.stdout(
    format === 'json'
      ? JSON.stringify({ ...traceJson(sim, r, why), topology: { notes } }, null, 2) + '\n'
      : traceText(sim, r, why) + notesText(notes),
  );
  return 0;
}

/** What the topology took from the dump rather than from the options. */
function notesText(notes: readonly string[]): string {
  return notes.map((n) => `topology: ${n}\n`).join('');
}

/** IPv6 when only ip6tables-save was given or the addresses traced are IPv6; else IPv4. */
function familyOf(host: Host, nodes: ReadonlyArray<string | undefined>): IpFamily {
  for (const n of nodes) {
    const a = n ? parseHost(n) : null;
    if (a) return a.family;
  }
  return !host.ipv4 && host.ipv6 ? 6 : 4;
}
