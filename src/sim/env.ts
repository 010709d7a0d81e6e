// What the simulator knows beyond the rules and the packet: ipset contents given with --ipset.

import type { IpsetSave } from '../model/ipset.js';
import { indexIpsets, type IpsetIndex } from './ipset.js';

/** Everything rules are compiled against besides the dump. */
export interface EvalEnv {
  /** The sets `ipset save` gave; null when none was given (every -m set is then unknown). */
  readonly ipsets: IpsetIndex | null;
}

export const NO_ENV: EvalEnv = { ipsets: null };

export function evalEnv(options: { readonly ipsets?: IpsetSave | null }): EvalEnv {
  return { ipsets: options.ipsets ? indexIpsets(options.ipsets) : null };
}
