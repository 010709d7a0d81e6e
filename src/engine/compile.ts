// The engine's entry: networks in start order + flavour (+ era, + the host's current state) →
// the program the real software runs. One module per flavour; this file only dispatches.

import { match } from 'ts-pattern';
import type { AnyNetwork, Network, XenMode, XenNetwork } from '../model/network.js';
import { UsageError } from '../model/errors.js';
import { emptyHostState, type HostState } from './apply.js';
import { libvirtBatches, privateChainEra } from './libvirt.js';
import { legacyBatches, legacyEra } from './libvirt-legacy.js';
import { compileLibvirtNft } from './libvirt-nft.js';
import type { Command, Flavor, Program } from './program.js';
import { pushAll } from '../model/lists.js';
import {
  compareVersions,
  DEFAULT_LEGACY_VERSION,
  DEFAULT_LIBVIRT_VERSION,
  DEFAULT_XEN_VERSION,
  parseVersion,
  type Version,
} from './version.js';
import { compileXenBridge } from './xen-bridge.js';
import { xenEra } from './xen-common.js';
import { compileXenNat } from './xen-nat.js';
import { compileXenRoute } from './xen-route.js';

export interface CompileOptions {
  readonly flavor: Flavor;
  /** `X.Y.Z` for the libvirt flavours (legacy: < 5.1.0, libvirt: ≥ 5.1.0, nft: ≥ 10.4.0). */
  readonly libvirtVersion?: string;
  /** `X.Y[.Z]` for the Xen flavours (default 4.4, the last release with xend's network scripts). */
  readonly xenVersion?: string;
  /** The host's firewall before the networks start: decides which one-time set-up is still needed. */
  readonly base?: HostState;
}

function version(text: string | undefined, fallback: string, flag: string): Version {
  const v = parseVersion(text ?? fallback);
  if (!v) throw new UsageError(`compile: ${flag} must look like X.Y or X.Y.Z (got '${text}')`);
  return v;
}

function libvirtOnly(networks: readonly AnyNetwork[], flavor: Flavor): Network[] {
  return networks.map((n) => {
    if (n.kind !== 'libvirt')
      throw new UsageError(
        `compile: --flavor ${flavor} compiles libvirt networks, but '${n.name}' (${n.origin.file}) is a Xen set-up; use --flavor xen-${n.mode}`,
      );
    return n;
  });
}

function xenOnly(networks: readonly AnyNetwork[], flavor: Flavor, mode: XenMode): XenNetwork[] {
  return networks.map((n) => {
    if (n.kind !== 'xen')
      throw new UsageError(
        `compile: --flavor ${flavor} compiles Xen set-ups, but '${n.name}' (${n.origin.file}) is a libvirt network; use --flavor libvirt, libvirt-legacy or libvirt-nft`,
      );
    if (n.mode !== mode)
      throw new UsageError(
        `compile: --flavor ${flavor} runs network-${mode}/vif-${mode}, but '${n.name}' (${n.origin.file}) is set up for network-${n.mode}; use --flavor xen-${n.mode}`,
      );
    return n;
  });
}

/** A program's commands still to be made, in batches (the set-up, then each network's), and the rest of it. */
interface Compilation extends Omit<Program, 'commands'> {
  readonly batches: Iterable<readonly Command[]>;
}

export function compile(networks: readonly AnyNetwork[], options: CompileOptions): Program {
  const { flavor, era, networks: names, batches, notes } = compilation(networks, options);
  const commands: Command[] = [];
  for (const batch of batches) pushAll(commands, batch);
  return { flavor, era, networks: names, commands, notes };
}

/**
 * compile's program with its commands handed to `take` as they are made: the set-up, then one network's commands at a
 * time. What `take` does not keep is garbage before the next network is compiled: an audit of 1,000 networks keeps a
 * few strings of each of the ~20,000 commands, where the whole program (argv, effect, rule, sentence: ~900 bytes a
 * command) lived through the collections that ran while it was made, and was copied by each.
 */
export function compileEach(
  networks: readonly AnyNetwork[],
  options: CompileOptions,
  take: (commands: readonly Command[]) => void,
): Omit<Program, 'commands'> {
  const { flavor, era, networks: names, batches, notes } = compilation(networks, options);
  for (const batch of batches) take(batch);
  return { flavor, era, networks: names, notes };
}

function compilation(networks: readonly AnyNetwork[], options: CompileOptions): Compilation {
  const notes: string[] = [];
  const base = options.base ?? emptyHostState();
  const names = networks.map((n) => n.name);
  const libvirtVersion = (min: string | null, below: string | null, fallback: string): Version => {
    const v = version(options.libvirtVersion, fallback, '--libvirt-version');
    if (min && compareVersions(v, min) < 0)
      throw new UsageError(
        `compile: --flavor ${options.flavor} describes libvirt ${min} and later; for ${v.text} use ${min === '10.4.0' ? '--flavor libvirt (iptables backend)' : '--flavor libvirt-legacy'}`,
      );
    if (below && compareVersions(v, below) >= 0)
      throw new UsageError(
        `compile: --flavor libvirt-legacy describes libvirt before ${below}; for ${v.text} use --flavor libvirt`,
      );
    return v;
  };
  const xen = (
    mode: XenMode,
    run: (era: ReturnType<typeof xenEra>, n: XenNetwork) => Program['commands'],
  ): Compilation => {
    if (options.libvirtVersion)
      throw new UsageError('compile: --libvirt-version applies to the libvirt flavours; use --xen-version with xen-*');
    const era = xenEra(version(options.xenVersion, DEFAULT_XEN_VERSION, '--xen-version'));
    const xenNetworks = xenOnly(networks, options.flavor, mode);
    return {
      flavor: options.flavor,
      era: era.label,
      networks: names,
      batches: eachOf(xenNetworks, (n) => run(era, n)),
      notes,
    };
  };
  const noXenVersion = (): void => {
    if (options.xenVersion) throw new UsageError('compile: --xen-version applies to the xen-* flavours');
  };

  return match(options.flavor)
    .with('libvirt', (flavor): Compilation => {
      noXenVersion();
      const era = privateChainEra(libvirtVersion('5.1.0', null, DEFAULT_LIBVIRT_VERSION).text);
      const batches = libvirtBatches(libvirtOnly(networks, flavor), era, base, notes);
      return { flavor, era: era.label, networks: names, batches, notes };
    })
    .with('libvirt-legacy', (flavor): Compilation => {
      noXenVersion();
      const era = legacyEra(libvirtVersion(null, '5.1.0', DEFAULT_LEGACY_VERSION));
      const batches = legacyBatches(libvirtOnly(networks, flavor), era, notes);
      return { flavor, era: era.label, networks: names, batches, notes };
    })
    .with('libvirt-nft', (flavor): Compilation => {
      noXenVersion();
      const v = libvirtVersion('10.4.0', null, DEFAULT_LIBVIRT_VERSION);
      const batches = [compileLibvirtNft(libvirtOnly(networks, flavor), base.nft)];
      return { flavor, era: `libvirt ${v.text}`, networks: names, batches, notes };
    })
    .with('xen-bridge', () => xen('bridge', (era, n) => compileXenBridge(era, n, notes)))
    .with('xen-nat', () => xen('nat', (era, n) => compileXenNat(era, n, notes)))
    .with('xen-route', () => xen('route', (era, n) => compileXenRoute(era, n, notes)))
    .exhaustive();
}

/** Each item's commands, made when the batch is asked for. */
function* eachOf<T>(items: readonly T[], commandsOf: (item: T) => readonly Command[]): Iterable<readonly Command[]> {
  for (const item of items) yield commandsOf(item);
}
