// The extension data behind each parsed match and target (kept beside the plain model, not in
// it): the validated options and their canonical print, for the printer and the dump checks.

import type { Match, Target } from '../model/dump.js';
import type { Extension, GivenMap, PrintedOption } from './spec.js';

export interface ExtensionUse {
  readonly ext: Extension;
  readonly given: GivenMap;
  readonly printed: readonly PrintedOption[];
  readonly col: number;
}

const uses = new WeakMap<Match | Target, ExtensionUse>();

export function recordUse(x: Match | Target, use: ExtensionUse): void {
  uses.set(x, use);
}

/** The validated extension behind a match or target (undefined for chains and unknown extensions). */
export function extensionUse(x: Match | Target): ExtensionUse | undefined {
  return uses.get(x);
}
