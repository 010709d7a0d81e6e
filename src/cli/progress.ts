// A progress line on stderr for work that takes a while (a 100,000-rule dump, collecting a
// host), redrawn in place. Only on a terminal, never under --quiet, and only once the work has
// taken long enough to be worth watching, so quick runs and pipes see nothing.

import type { Io } from './io.js';

export interface Progress {
  /** Shows `text` as the current state (drawn at most every `everyMs`, after `delayMs`). */
  readonly update: (text: string) => void;
  /** Clears the line, if one was drawn. */
  readonly done: () => void;
}

export interface ProgressOptions {
  readonly delayMs?: number;
  readonly everyMs?: number;
  /** The clock (tests). */
  readonly now?: () => number;
}

const SILENT: Progress = { update: () => {}, done: () => {} };

export function progressFor(io: Io, options: ProgressOptions = {}): Progress {
  if (!io.stderrIsTTY || io.quiet || io.env.TERM === 'dumb') return SILENT;
  const now = options.now ?? (() => performance.now());
  const started = now();
  const fromEnv = Number.parseInt(io.env.VIRTABLES_PROGRESS_DELAY_MS ?? '', 10);
  const delay = options.delayMs ?? (Number.isNaN(fromEnv) ? 300 : fromEnv);
  const every = options.everyMs ?? 100;
  let drawnAt: number | null = null;
  return {
    update: (text) => {
      const t = now();
      if (t - started < delay || (drawnAt !== null && t - drawnAt < every)) return;
      const width = Math.max(20, (process.stderr.columns || 80) - 1); // 0 when the terminal does not say
      io.stderr(`\r\u001b[K${text.length > width ? text.slice(0, width - 1) + '…' : text}`);
      drawnAt = t;
    },
    done: () => {
      if (drawnAt !== null) io.stderr('\r\u001b[K');
      drawnAt = null;
    },
  };
}

/** 45000 → "45,000" (not toLocaleString: its first call loads ICU data, ~100 ms). */
export function count(n: number): string {
  const digits = String(Math.trunc(Math.abs(n)));
  let out = '';
  for (let i = 0; i < digits.length; i++) out += (i > 0 && (digits.length - i) % 3 === 0 ? ',' : '') + digits[i];
  return n < 0 ? `-${out}` : out;
}
