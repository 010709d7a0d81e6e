// virtables check POLICY [--dump D] [--before B] [--net NET…] [--rules F] [--guest-dump G=F…] [--answer DIR] [--format
// text|json]

import { UsageError } from '../model/errors.js';
import { passed, checkSheet } from '../lab/check.js';
import { answerEvidence, commandLineEvidence, type Evidence } from '../lab/evidence.js';
import { loadSheet } from '../lab/sheet.js';
import type { Args } from './spec.js';
import { sheetJson, sheetText } from './check-report.js';
import { readNetworkInputs } from './inputs.js';
import type { Io } from './io.js';
import { styleFor } from './style.js';

function guestDumps(list: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const g of list) {
    const eq = g.indexOf('=');
    if (eq <= 0 || eq === g.length - 1) throw new UsageError(`check: --guest-dump takes GUEST=DUMP (got '${g}')`);
    out.set(g.slice(0, eq), g.slice(eq + 1));
  }
  return out;
}

/** The answer directory's evidence, with what the command line gives taking precedence. */
function combined(
  line: Evidence,
  answer: Evidence | null,
  given: { dump: boolean; before: boolean; rules: boolean; guests: ReadonlySet<string> },
): Evidence {
  if (!answer) return line;
  return {
    origin: answer.origin,
    networks: new Map([...answer.networks, ...line.networks]),
    hostDump: (f) => (given.dump ? line.hostDump(f) : answer.hostDump(f)),
    beforeDump: () => (given.before ? line.beforeDump() : answer.beforeDump()),
    listing: (f) => (given.rules ? line.listing(f) : answer.listing(f)),
    guestDump: (g, f) => (given.guests.has(g) ? line.guestDump(g, f) : answer.guestDump(g, f)),
    text: (f) => answer.text(f),
  };
}

export async function run({ values, positionals }: Args<'check'>, io: Io): Promise<number> {
  const format = values.format ?? 'text';
  if (positionals.length !== 1) throw new UsageError(`check: give one expectations file (got ${positionals.length})`);
  const policy = positionals[0]!;
  const stdinUsers = [policy, values.dump, values.before, values.rules, ...(values.net ?? [])].filter(
    (p) => p === '-',
  ).length;
  if (stdinUsers > 1) throw new UsageError("check: standard input ('-') can be read only once");
  const guests = guestDumps(values['guest-dump'] ?? []);
  const line = commandLineEvidence(
    {
      dump: values.dump ?? null,
      before: values.before ?? null,
      rules: values.rules ?? null,
      guestDumps: guests,
      networks: readNetworkInputs('check', values.net ?? [], io),
    },
    io.readBytes,
  );
  const answer = values.answer ? answerEvidence(values.answer, io.readBytes) : null;
  const evidence = combined(line, answer, {
    dump: values.dump !== undefined,
    before: values.before !== undefined,
    rules: values.rules !== undefined,
    guests: new Set(guests.keys()),
  });
  const world = loadSheet(policy, evidence, io.readBytes);
  const result = checkSheet(world, evidence, io.readBytes, { missingIsUsage: answer === null });
  io.stdout(
    format === 'json'
      ? JSON.stringify(sheetJson(result), null, 2) + '\n'
      : sheetText(result, styleFor(io), values.verbose === true),
  );
  return passed(result) ? 0 : 1;
}
