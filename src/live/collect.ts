// Collecting a host's firewall and libvirt networks with the read-only commands, into plain data
// that the save-dir layout (layout.ts) writes and the audit reads. What could not be collected
// is recorded as a problem with the reason, never guessed around.

import { hostname } from 'node:os';
import { commandLine, slotProblem, type CommandName } from './commands.js';
import { printable } from '../model/text.js';
import { execute, type CommandResult, type Runner } from './run.js';

export type Source = 'iptables-save' | 'ip6tables-save' | 'nft' | 'libvirt';

export type ProblemKind = 'missing-tool' | 'not-permitted' | 'cannot-connect' | 'failed';

export interface Problem {
  readonly source: Source;
  readonly kind: ProblemKind;
  readonly message: string;
}

export interface CollectedNetwork {
  readonly name: string;
  /** Running (virsh net-list without --all lists it). */
  readonly active: boolean;
  /** virsh net-dumpxml: the live definition of a running network, the stored one otherwise. */
  readonly xml: Uint8Array;
}

export interface Collection {
  readonly host: string;
  /** ISO 8601, when the collection started (null: a directory that does not say). */
  readonly date: string | null;
  /** The libvirt connection URI given, or null for virsh's default. */
  readonly connect: string | null;
  readonly iptables: Uint8Array | null;
  readonly ip6tables: Uint8Array | null;
  readonly nft: Uint8Array | null;
  /** null when libvirt could not be asked (see problems). */
  readonly networks: readonly CollectedNetwork[] | null;
  /** Sources that could not be collected: live mode exits 2 after auditing the rest. */
  readonly problems: readonly Problem[];
  /** Things worth saying that are not failures (no nft on this host). */
  readonly notes: readonly string[];
}

export interface CollectOptions {
  readonly connect: string | null;
  readonly runner?: Runner;
  /** Told before each command runs (the progress line). */
  readonly onCommand?: (argv: readonly string[]) => void;
}

const DENIED = /permission denied|you must be root|operation not permitted|not permitted/i;
const NO_CONNECTION =
  /failed to connect|no connection driver|cannot connect|authentication (failed|unavailable)|unable to connect|no such file or directory/i;

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  );
}

/** Why a command that did not succeed produced nothing usable, in words a host's admin acts on. */
export function problemOf(source: Source, argv: readonly string[], result: CommandResult): Problem {
  const tool = argv[0]!;
  if (result.kind === 'not-found') {
    const install: Record<string, string> = {
      'iptables-save': 'iptables',
      'ip6tables-save': 'iptables',
      nft: 'nftables',
      virsh: 'libvirt-clients',
    };
    const what =
      tool === 'virsh'
        ? 'virsh is not installed, so libvirt could not be asked for its networks'
        : `${tool} is not installed (or not on PATH)`;
    return {
      source,
      kind: 'missing-tool',
      message: `${what} (Debian/Ubuntu: apt-get install ${install[tool] ?? tool})`,
    };
  }
  const reason = result.stderr
    .split('\n')
    .filter((l) => l.trim() !== 'error: failed to connect to the hypervisor')
    .join('\n');
  const said = firstLine(reason).replace(/^error:\s*/, '') || `exit status ${result.code}`;
  if (tool === 'virsh' && NO_CONNECTION.test(result.stderr)) {
    return {
      source,
      kind: 'cannot-connect',
      message: `virsh could not connect to libvirt (${said}); is libvirtd (or virtnetworkd) running, and may this user connect to it? Give the URI with --connect or LIBVIRT_DEFAULT_URI`,
    };
  }
  if (DENIED.test(result.stderr)) {
    return {
      source,
      kind: 'not-permitted',
      message: `${argv.join(' ')} was refused (${said}); run virtables live as root (sudo virtables live)`,
    };
  }
  return { source, kind: 'failed', message: `${argv.join(' ')} failed with exit status ${result.code}: ${said}` };
}

/** Network names as virsh lists them, one a line (names may hold spaces; blank lines end the list). */
export function networkNames(stdout: Uint8Array): string[] {
  return new TextDecoder()
    .decode(stdout)
    .split('\n')
    .filter((l) => l.trim() !== '');
}

/**
 * The one order networks are audited in, collected or read back from a directory (it decides which of two clashing
 * networks a finding names).
 */
export const byName = (a: { readonly name: string }, b: { readonly name: string }): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

export async function collectHost(options: CollectOptions): Promise<Collection> {
  const date = new Date().toISOString();
  const problems: Problem[] = [];
  const notes: string[] = [];
  const uri = options.connect;
  const run = async (
    source: Source,
    name: CommandName,
    network?: string,
    retry?: (r: CommandResult) => CommandName | null,
  ): Promise<Uint8Array | null> => {
    const argv = commandLine(name, {
      ...(uri === null ? {} : { '<uri>': uri }),
      ...(network === undefined ? {} : { '<network>': network }),
    });
    options.onCommand?.(argv);
    const result = await execute(argv, options.runner);
    if (result.kind === 'ran' && result.code === 0) return result.stdout;
    const instead = retry?.(result) ?? null;
    if (instead !== null) return run(source, instead, network);
    if (source === 'nft' && result.kind === 'not-found') {
      notes.push(
        'nft is not installed: no nftables ruleset collected (iptables-save shows iptables-nft rules; libvirt 10.4+ nftables rules would need nft)',
      );
      return null;
    }
    problems.push(problemOf(source, argv, result));
    return null;
  };
  const at = (plain: CommandName, withUri: CommandName): CommandName => (uri === null ? plain : withUri);

  const iptables = await run('iptables-save', 'iptablesSave');
  const ip6tables = await run('ip6tables-save', 'ip6tablesSave');
  // JSON first; an nft too old for -j (before 0.9.3) says so in a usage message and is asked for text.
  const nft = await run('nft', 'nftRulesetJson', undefined, (r) => {
    if (r.kind !== 'ran' || !/unrecognized option|invalid option|unknown option/i.test(r.stderr)) return null;
    notes.push('nft does not know -j (JSON output needs nftables 0.9.3+): its text listing was collected instead');
    return 'nftRuleset';
  });

  let networks: CollectedNetwork[] | null = null;
  const all = await run('libvirt', at('virshNetworks', 'virshNetworksAt'));
  const running = all === null ? null : await run('libvirt', at('virshActive', 'virshActiveAt'));
  if (all !== null && running !== null) {
    const active = new Set(networkNames(running));
    networks = [];
    for (const name of networkNames(all)) {
      const unusable = slotProblem('<network>', name);
      if (unusable) {
        problems.push({
          source: 'libvirt',
          kind: 'failed',
          message: `network "${printable(name)}" not collected: its name ${unusable}`,
        });
        continue;
      }
      const xml = await run('libvirt', at('virshDumpxml', 'virshDumpxmlAt'), name);
      if (xml !== null) networks.push({ name, active: active.has(name), xml });
    }
  }
  return {
    host: hostname(),
    date,
    connect: uri,
    iptables,
    ip6tables,
    nft,
    networks: networks?.sort(byName) ?? null,
    problems,
    notes,
  };
}
