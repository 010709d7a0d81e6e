// The installed package: its root (where package.json, corpus/ and docs/ sit, whether this runs from
// src/ or from dist/src/) and its version, read from package.json in this one place.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The package's root directory. */
export const PACKAGE_ROOT = findRoot();

/** A path inside the package (`packagePath('docs', 'checks')`). */
export function packagePath(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}

/** The version package.json declares (what `--version`, SARIF and `live --save-dir` print). */
export const VERSION: string = (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string })
  .version;
