// virtables' answer for a generated one-rule case, put the way the kernel's is (accepted
// with the printed rule, or refused), and the comparison of the two.

import { parseSave } from '../../grammar/iptables-save.js';
import { BUILTIN_CHAINS } from '../../src/model/dump.js';
import { InputError } from '../../src/model/errors.js';
import { formatRule } from '../../src/write/save.js';
import type { KernelAnswer, KernelCase } from './kernel-batch.js';

/** The one-rule restore file of a case. */
export function caseFile(c: KernelCase): string {
  const builtin = (BUILTIN_CHAINS[c.table] ?? []).includes(c.chain);
  return [`*${c.table}`, ...(builtin ? [] : [`:${c.chain} - [0:0]`]), `-A ${c.chain} ${c.rule}`, 'COMMIT', ''].join(
    '\n',
  );
}

export function virtablesAnswer(c: KernelCase): KernelAnswer {
  try {
    const dump = parseSave(caseFile(c), { file: 'case', family: c.family, strict: true });
    const chain = dump.tables[0]?.chains.find((ch) => ch.name === c.chain);
    const printed = (chain?.rules ?? []).map((r) => formatRule(r, c.family).slice(`-A ${c.chain}`.length).trimStart());
    return { ok: true, printed: printed.join(' | ') };
  } catch (e) {
    if (e instanceof InputError) return { ok: false, error: e.message };
    throw e;
  }
}

/** Equal: both accept and print the same line, or both refuse. */
export function sameAnswer(kernel: KernelAnswer, ours: KernelAnswer): boolean {
  if (kernel.ok !== ours.ok) return false;
  return !kernel.ok || (ours.ok && ours.printed === kernel.printed);
}

export function describeAnswer(a: KernelAnswer): string {
  return a.ok ? `accepted: ${a.printed === '' ? '(nothing after the chain)' : a.printed}` : `refused: ${a.error}`;
}
