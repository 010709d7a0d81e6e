// Colour for people on a terminal, nothing for pipes; NO_COLOR (no-color.org) switches it off.

import type { Style } from '../write/style.js';
import type { Io } from './io.js';

export type { Style } from '../write/style.js';

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const plain = (s: string): string => s;

export function styleFor(io: Io, stream: 'stdout' | 'stderr' = 'stdout'): Style {
  const tty = stream === 'stdout' ? io.stdoutIsTTY : io.stderrIsTTY;
  const enabled = tty && io.env.NO_COLOR === undefined && io.env.TERM !== 'dumb';
  if (!enabled) return { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain, enabled };
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
    enabled,
  };
}
