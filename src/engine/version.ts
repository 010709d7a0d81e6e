// Release numbers as `X.Y[.Z]`, compared numerically (0.10.0 is after 0.9.12).

export interface Version {
  readonly parts: readonly number[];
  readonly text: string;
}

export function parseVersion(text: string): Version | null {
  if (!/^\d+(\.\d+){1,2}$/.test(text)) return null;
  return { parts: text.split('.').map(Number), text };
}

export function compareVersions(a: Version, b: Version | string): number {
  const other = typeof b === 'string' ? parseVersion(b) : b;
  if (!other) throw new Error(`internal: bad version '${String(b)}'`);
  for (let i = 0; i < 3; i++) {
    const d = (a.parts[i] ?? 0) - (other.parts[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

// The releases modelled when none is given (here, not beside their engines, so the CLI's command
// table can name them without loading the engines).
/** The newest libvirt release the `libvirt` and `libvirt-nft` defaults describe (the shared test vectors). */
export const DEFAULT_LIBVIRT_VERSION = '11.3.0';
/** The last release before private chains; libvirt's legacy test vectors describe it. */
export const DEFAULT_LEGACY_VERSION = '5.0.0';
/** xend (and xend-config.sxp, network-bridge/nat/route) last shipped in 4.4. */
export const DEFAULT_XEN_VERSION = '4.4';
