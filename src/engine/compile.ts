// The engine's entry: networks in start order + flavour (+ era, + the host's current state) →
// the program the real software runs. One module per flavour; this file only dispatches.

import { match } from 'ts-pattern';
import type { AnyNetwork, Network, XenMode, XenNetwork } from '../model/network.js';
import { UsageError } from '../model/errors.js';
import { emptyHostState, type HostState } from './apply.js';
import { compileLibvirt, privateChainEra } from './libvirt.js';
import { compileLibvirtLegacy, legacyEra } from './libvirt-legacy.js';
import { compileLibvirtNft } from './libvirt-nft.js';
import type { Flavor, Program } from './program.js';
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

export function compile(networks: readonly AnyNetwork[], options: CompileOptions): Program {
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
  const xen = (mode: XenMode, run: (era: ReturnType<typeof xenEra>, n: XenNetwork) => Program['commands']): Program => {
    if (options.libvirtVersion)
      throw new UsageError('compile: --libvirt-version applies to the libvirt flavours; use --xen-version with xen-*');
    const era = xenEra(version(options.xenVersion, DEFAULT_XEN_VERSION, '--xen-version'));
    const commands = xenOnly(networks, options.flavor, mode).flatMap((n) => run(era, n));
    return { flavor: options.flavor, era: era.label, networks: names, commands, notes };
  };
  const noXenVersion = (): void => {
    if (options.xenVersion) throw new UsageError('compile: --xen-version applies to the xen-* flavours');
  };

  return match(options.flavor)
    .with('libvirt', (flavor): Program => {
      noXenVersion();
      const era = privateChainEra(libvirtVersion('5.1.0', null, DEFAULT_LIBVIRT_VERSION).text);
      const commands = compileLibvirt(libvirtOnly(networks, flavor), era, base, notes);
      return { flavor, era: era.label, networks: names, commands, notes };
    })
    .with('libvirt-legacy', (flavor): Program => {
      noXenVersion();
      const era = legacyEra(libvirtVersion(null, '5.1.0', DEFAULT_LEGACY_VERSION));
      const commands = compileLibvirtLegacy(libvirtOnly(networks, flavor), era, notes);
      return { flavor, era: era.label, networks: names, commands, notes };
    })
    .with('libvirt-nft', (flavor): Program => {
      noXenVersion();
      const v = libvirtVersion('10.4.0', null, DEFAULT_LIBVIRT_VERSION);
      const commands = compileLibvirtNft(libvirtOnly(networks, flavor), base.nft);
      return { flavor, era: `libvirt ${v.text}`, networks: names, commands, notes };
    })
    .with('xen-bridge', () => xen('bridge', (era, n) => compileXenBridge(era, n, notes)))
    .with('xen-nat', () => xen('nat', (era, n) => compileXenNat(era, n, notes)))
    .with('xen-route', () => xen('route', (era, n) => compileXenRoute(era, n, notes)))
    .exhaustive();
}
