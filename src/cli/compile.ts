// virtables compile NET… [--flavor F] [--format save|args|shell|nft|json] [--base DUMP]
//                        [--setup] [--family ipv4|ipv6] [--libvirt-version X.Y.Z] [--xen-version X.Y]

import { applyProgram, emptyDump, emptyHostState, type HostState } from '../engine/apply.js';
import { compile, DEFAULT_LIBVIRT_VERSION } from '../engine/compile.js';
import { DEFAULT_LEGACY_VERSION } from '../engine/libvirt-legacy.js';
import { FLAVORS, type Flavor } from '../engine/program.js';
import { DEFAULT_XEN_VERSION } from '../engine/xen-common.js';
import type { Family } from '../model/dump.js';
import { UsageError } from '../model/errors.js';
import { formatProgramArgs } from '../write/args.js';
import { formatNftRuleset } from '../write/nft.js';
import { programToJson } from '../write/program-json.js';
import { formatDump } from '../write/save.js';
import { formatProgramShell } from '../write/shell.js';
import { oneOf, parseCommandArgs } from './args.js';
import { readDump, readNetworkInputs } from './inputs.js';
import type { Io } from './io.js';

export const help = `Usage: virtables compile NET… [options]

Derives the firewall commands libvirt or Xen runs when the given networks start (in the
order given), each rule with its network, purpose and a sentence saying why, and prints
them or the firewall they leave behind.

  NET                     libvirt network XML (virsh net-dumpxml, /etc/libvirt/qemu/networks/*.xml;
                          several <network>s per file are fine); or a Xen host: its
                          xend-config.sxp and its guests' domU configurations (vif = [ … ]),
                          the guests running as domains 1, 2, … in order (see --domids), or
                          one Xen set-up file (docs/commands/compile.md); '-' reads standard input
  --flavor F              libvirt (default: 5.1+, private LIBVIRT_* chains, iptables backend)
                          libvirt-legacy (before 5.1: rules in INPUT/FORWARD/POSTROUTING)
                          libvirt-nft (10.4+ nftables backend)
                          xen-bridge, xen-nat, xen-route (Xen's network-* and vif-* scripts;
                          the default for a Xen host or set-up: its own script's mode)
  --format save           iptables-save text of the resulting firewall (default; nft flavour: nft)
  --format args           the commands in libvirt's test-vector format (networkxml2firewalltest)
  --format shell          the commands as a commented shell script
  --format nft            nft list ruleset of the resulting libvirt_network tables (libvirt-nft)
  --format json           the program: every command with argv, effect, network, purpose, why
  --base DUMP             the host's iptables-save (or ip6tables-save) before the networks
                          start; save then prints the whole resulting dump, and the one-time
                          chain set-up is only done where missing, as libvirt checks
  --setup                 include the one-time chain set-up commands in args/shell/json
                          (libvirt's base.iptables / base.nftables); save and nft always apply it
  --family ipv4|ipv6      which side save prints: iptables-save or ip6tables-save (default ipv4,
                          or the family of --base)
  --libvirt-version X.Y.Z the libvirt release to model (legacy: default ${DEFAULT_LEGACY_VERSION}, e.g. 0.6.3 for
                          CentOS 5; libvirt/libvirt-nft: default ${DEFAULT_LIBVIRT_VERSION})
  --xen-version X.Y       the Xen release to model (default ${DEFAULT_XEN_VERSION}, the last with xend)
  --domids N,N,…          the domain ids of the domU configurations, in order (default 1, 2, …)
  -h, --help              this text

Exit status: 0 compiled, 2 bad input or usage (the message names FILE:LINE:COL).
`;

interface Values {
  help?: boolean;
  flavor?: string;
  format?: string;
  base?: string;
  setup?: boolean;
  family?: string;
  'libvirt-version'?: string;
  'xen-version'?: string;
  domids?: string;
}

const FORMATS = ['save', 'args', 'shell', 'nft', 'json'] as const;

function parseDomids(text: string | undefined): number[] | null {
  if (text === undefined) return null;
  const ids = text.split(',').map((t) => (/^\d+$/.test(t.trim()) ? Number(t) : NaN));
  if (ids.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`compile: --domids takes domain ids 1, 2, … separated by commas (got '${text}')`);
  return ids;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs<Values>('compile', argv, {
    flavor: { type: 'string' },
    format: { type: 'string', short: 'f' },
    base: { type: 'string' },
    setup: { type: 'boolean' },
    family: { type: 'string' },
    'libvirt-version': { type: 'string' },
    'xen-version': { type: 'string' },
    domids: { type: 'string' },
  });
  if (values.help) {
    io.stdout(help);
    return 0;
  }
  const given = values.flavor === undefined ? undefined : oneOf<Flavor>('compile', '--flavor', values.flavor, FLAVORS, 'libvirt');
  if (positionals.length === 0) throw new UsageError('compile: give at least one network file (or - for standard input)');
  if (positionals.filter((p) => p === '-').length + (values.base === '-' ? 1 : 0) > 1) throw new UsageError("compile: standard input ('-') can be read only once");

  const networks = readNetworkInputs('compile', positionals, io, { domids: parseDomids(values.domids) });
  // Without --flavor, a Xen set-up says its own: its network script's mode.
  const xenModes = [...new Set(networks.flatMap((n) => (n.kind === 'xen' ? [n.mode] : [])))];
  const flavor: Flavor = given ?? (xenModes.length === 1 && networks.every((n) => n.kind === 'xen') ? `xen-${xenModes[0]!}` : 'libvirt');
  const format = oneOf('compile', '--format', values.format, FORMATS, flavor === 'libvirt-nft' ? 'nft' : 'save');

  let family: Family = oneOf<Family>('compile', '--family', values.family, ['ipv4', 'ipv6'], 'ipv4');
  let base: HostState = emptyHostState();
  if (values.base !== undefined) {
    if (flavor === 'libvirt-nft') throw new UsageError('compile: --base takes an iptables-save dump; the libvirt-nft flavour leaves iptables alone (use --flavor libvirt for the iptables backend)');
    const dump = readDump(values.base, io);
    if (dump.family && values.family && dump.family !== values.family) throw new UsageError(`compile: --base ${values.base} is an ${dump.family === 'ipv6' ? 'ip6tables' : 'iptables'}-save dump, but --family ${values.family} was asked for`);
    family = dump.family ?? family;
    dump.family = family;
    base = { ...base, [family]: dump };
  }

  const program = compile(networks, {
    flavor,
    ...(values['libvirt-version'] ? { libvirtVersion: values['libvirt-version'] } : {}),
    ...(values['xen-version'] ? { xenVersion: values['xen-version'] } : {}),
    base,
  });
  if (!io.quiet) for (const note of program.notes) io.stderr(`virtables compile: note: ${note}\n`);
  const setup = values.setup === true;

  switch (format) {
    case 'args':
      io.stdout(formatProgramArgs(program, { setup }));
      break;
    case 'shell':
      io.stdout(formatProgramShell(program, { setup }));
      break;
    case 'json':
      io.stdout(JSON.stringify(programToJson(program, { setup }), null, 2) + '\n');
      break;
    case 'nft': {
      if (flavor !== 'libvirt-nft') throw new UsageError(`compile: --format nft prints the nftables ruleset of --flavor libvirt-nft; --flavor ${flavor} writes iptables rules (use --format save)`);
      io.stdout(formatNftRuleset(applyProgram(program, base).nft));
      break;
    }
    case 'save': {
      if (flavor === 'libvirt-nft') throw new UsageError('compile: --flavor libvirt-nft adds no iptables rules; use --format nft (or args/shell/json)');
      const state = applyProgram(program, base);
      const dump = state[family] ?? emptyDump(family);
      io.stdout(formatDump({ ...dump, family }));
      break;
    }
  }
  return 0;
}
