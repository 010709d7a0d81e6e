// What the simulator knows beyond the rules and the packet: ipset contents given with --ipset,
// and what the user assumes about state no dump holds (--assume).

import { UsageError } from '../model/errors.js';
import type { IpsetSave } from '../model/ipset.js';
import { indexIpsets, type IpsetIndex } from './ipset.js';

/** What the user assumes of state no input shows; null: not assumed (the condition is undecided). */
export interface Assumptions {
  /** `recent empty`: every -m recent list holds nothing before the traced packets. */
  readonly recentEmpty: boolean;
  /** `limit under` / `limit over`: every rate limit (limit, hashlimit) is under / over its rate. */
  readonly limit: 'under' | 'over' | null;
}

/** Everything rules are compiled against besides the dump. */
export interface EvalEnv {
  /** The sets `ipset save` gave; null when none was given (every -m set is then unknown). */
  readonly ipsets: IpsetIndex | null;
  readonly assume: Assumptions;
}

export const NO_ASSUMPTIONS: Assumptions = { recentEmpty: false, limit: null };

export const NO_ENV: EvalEnv = { ipsets: null, assume: NO_ASSUMPTIONS };

export function evalEnv(options: { readonly ipsets?: IpsetSave | null; readonly assume?: Assumptions }): EvalEnv {
  return { ipsets: options.ipsets ? indexIpsets(options.ipsets) : null, assume: options.assume ?? NO_ASSUMPTIONS };
}

/** The assumptions --assume knows, as written. */
export const ASSUMPTIONS = ['recent empty', 'limit under', 'limit over'] as const;

/** `--assume 'recent empty'`, `--assume 'limit under'` (repeatable; `,` also separates). */
export function parseAssumptions(command: string, texts: readonly string[]): Assumptions {
  let a: Assumptions = NO_ASSUMPTIONS;
  for (const text of texts.flatMap((t) => t.split(','))) {
    const words = text.trim().toLowerCase().split(/\s+/).join(' ');
    switch (words) {
      case 'recent empty':
        a = { ...a, recentEmpty: true };
        break;
      case 'limit under':
      case 'limit over': {
        const limit = words === 'limit under' ? 'under' : 'over';
        if (a.limit !== null && a.limit !== limit)
          throw new UsageError(`${command}: --assume: 'limit under' and 'limit over' contradict each other`);
        a = { ...a, limit };
        break;
      }
      default: {
        const near = ASSUMPTIONS.find((k) => k.split(' ')[0] === words.split(' ')[0]);
        const hint = near ? ` (did you mean '${near}'?)` : '';
        throw new UsageError(
          `${command}: --assume: '${text.trim()}' is not an assumption virtables knows${hint}; it knows ${ASSUMPTIONS.map((k) => `'${k}'`).join(', ')}`,
        );
      }
    }
  }
  return a;
}
