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
