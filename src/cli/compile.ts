// virtables compile NET… [--flavor F] [--format save|args|shell|nft|json] [--base DUMP]
//                        [--setup] [--family ipv4|ipv6] [--libvirt-version X.Y.Z] [--xen-version X.Y]

import { applyProgram, emptyDump, emptyHostState, type HostState } from '../engine/apply.js';
import { compile } from '../engine/compile.js';
import type { Flavor } from '../engine/program.js';
import type { Family } from '../model/dump.js';
import { UsageError } from '../model/errors.js';
import { formatProgramArgs } from '../write/args.js';
import { formatNftRuleset } from '../write/nft.js';
import { programToJson } from '../write/program-json.js';
import { formatDump } from '../write/save.js';
import { formatProgramShell } from '../write/shell.js';
import type { Args } from './spec.js';
import { readDump, readNetworkInputs } from './inputs.js';
import type { Io } from './io.js';

function parseDomids(text: string | undefined): number[] | null {
  if (text === undefined) return null;
  const ids = text.split(',').map((t) => (/^\d+$/.test(t.trim()) ? Number(t) : NaN));
  if (ids.some((n) => !Number.isInteger(n) || n < 1))
    throw new UsageError(`compile: --domids takes domain ids 1, 2, … separated by commas (got '${text}')`);
  return ids;
}

export async function run({ values, positionals }: Args<'compile'>, io: Io): Promise<number> {
  const given: Flavor | undefined = values.flavor;
  if (positionals.length === 0)
    throw new UsageError('compile: give at least one network file (or - for standard input)');
  if (positionals.filter((p) => p === '-').length + (values.base === '-' ? 1 : 0) > 1)
    throw new UsageError("compile: standard input ('-') can be read only once");

  const networks = readNetworkInputs('compile', positionals, io, { domids: parseDomids(values.domids) });
  // Without --flavor, a Xen set-up says its own: its network script's mode.
  const xenModes = [...new Set(networks.flatMap((n) => (n.kind === 'xen' ? [n.mode] : [])))];
  const flavor: Flavor =
    given ?? (xenModes.length === 1 && networks.every((n) => n.kind === 'xen') ? `xen-${xenModes[0]!}` : 'libvirt');
  const format = values.format ?? (flavor === 'libvirt-nft' ? 'nft' : 'save');

  let family: Family = values.family ?? 'ipv4';
  let base: HostState = emptyHostState();
  if (values.base !== undefined) {
    if (flavor === 'libvirt-nft')
      throw new UsageError(
        'compile: --base takes an iptables-save dump; the libvirt-nft flavour leaves iptables alone (use --flavor libvirt for the iptables backend)',
      );
    const dump = readDump(values.base, io);
    if (dump.family && values.family && dump.family !== values.family)
      throw new UsageError(
        `compile: --base ${values.base} is an ${dump.family === 'ipv6' ? 'ip6tables' : 'iptables'}-save dump, but --family ${values.family} was asked for`,
      );
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
      if (flavor !== 'libvirt-nft')
        throw new UsageError(
          `compile: --format nft prints the nftables ruleset of --flavor libvirt-nft; --flavor ${flavor} writes iptables rules (use --format save)`,
        );
      io.stdout(formatNftRuleset(applyProgram(program, base).nft));
      break;
    }
    case 'save': {
      if (flavor === 'libvirt-nft')
        throw new UsageError(
          'compile: --flavor libvirt-nft adds no iptables rules; use --format nft (or args/shell/json)',
        );
      const state = applyProgram(program, base);
      const dump = state[family] ?? emptyDump(family);
      io.stdout(formatDump({ ...dump, family }));
      break;
    }
  }
  return 0;
}
