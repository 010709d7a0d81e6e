// virtables check POLICY [--dump D] [--before B] [--net NET…] [--rules F] [--guest-dump G=F…] [--answer DIR] [--format text|json]

import { UsageError } from '../model/errors.js';
import { passed, checkSheet } from '../lab/check.js';
import { answerEvidence, commandLineEvidence, type Evidence } from '../lab/evidence.js';
import { loadSheet } from '../lab/sheet.js';
import { oneOf, parseCommandArgs } from './args.js';
import { sheetJson, sheetText } from './check-report.js';
import { readNetworkInputs } from './inputs.js';
import type { Io } from './io.js';
import { styleFor } from './style.js';

export const help = `Usage: virtables check POLICY [--dump DUMP] [--net NET…] [--before DUMP] [--rules FILE]
                       [--guest-dump GUEST=DUMP…] [--answer DIR] [--format text|json] [-v]

Checks the assertions of an expectations file (docs/expect.md) — "vm1 -> outside tcp/80 :
allowed", "outside -> host:8080 -> vm1:80 : allowed", "vm1 <-> vm2 : blocked", "after
starting natted, the added rules are exactly libvirt's" — against a firewall. Reachability
is decided by tracing packets through the dump (the first packet and its reply); rule sets
are compared with the rules the engine derives, whatever era's spelling. A failed assertion
shows the packet's trace, or the missing and extra rules.

  POLICY              the expectations file ('-' reads standard input)
  --dump DUMP         the host's iptables-save (the firewall the assertions are about)
  --net NET           a network definition (libvirt XML) the policy declares without a file;
                      repeatable; a directory gives every *.xml in it
  --before DUMP       the firewall before the networks started ("the added rules")
  --rules FILE        a rule listing or commands (iptables-save, iptables -S, iptables -L -n [-v],
                      iptables commands) for rule-set assertions and "the answer's commands"
  --guest-dump G=DUMP the iptables-save of guest G, a guest that routes for others
  --answer DIR        take everything above from DIR by name (host.save, before.save, *.xml,
                      rules.txt, GUEST.save); flags given as well win
  --format text       one line per assertion, with the reason and, on failure, the trace (default)
  --format json       {file, title, era, passed, failed, undecided, results} (docs/expect.md)
  -v, --verbose       traces and rule lists for passing assertions too
  -h, --help          this text

Exit status: 0 every assertion holds, 1 one fails (or cannot be decided), 2 bad input or usage.
`;

interface Values {
  help?: boolean;
  format?: string;
  dump?: string;
  before?: string;
  net?: string[];
  rules?: string;
  'guest-dump'?: string[];
  answer?: string;
  verbose?: boolean;
}

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
function combined(line: Evidence, answer: Evidence | null, given: { dump: boolean; before: boolean; rules: boolean; guests: ReadonlySet<string> }): Evidence {
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

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs<Values>('check', argv, {
    format: { type: 'string', short: 'f' },
    dump: { type: 'string' },
    before: { type: 'string' },
    net: { type: 'string', multiple: true },
    rules: { type: 'string' },
    'guest-dump': { type: 'string', multiple: true },
    answer: { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
  });
  if (values.help) {
    io.stdout(help);
    return 0;
  }
  const format = oneOf('check', '--format', values.format, ['text', 'json'] as const, 'text');
  if (positionals.length !== 1) throw new UsageError(`check: give one expectations file (got ${positionals.length})`);
  const policy = positionals[0]!;
  const stdinUsers = [policy, values.dump, values.before, values.rules, ...(values.net ?? [])].filter((p) => p === '-').length;
  if (stdinUsers > 1) throw new UsageError("check: standard input ('-') can be read only once");
  const guests = guestDumps(values['guest-dump'] ?? []);
  const line = commandLineEvidence(
    { dump: values.dump ?? null, before: values.before ?? null, rules: values.rules ?? null, guestDumps: guests, networks: readNetworkInputs('check', values.net ?? [], io) },
    io.readBytes,
  );
  const answer = values.answer ? answerEvidence(values.answer, io.readBytes) : null;
  const evidence = combined(line, answer, { dump: values.dump !== undefined, before: values.before !== undefined, rules: values.rules !== undefined, guests: new Set(guests.keys()) });
  const world = loadSheet(policy, evidence, io.readBytes);
  const result = checkSheet(world, evidence, io.readBytes, { missingIsUsage: answer === null });
  io.stdout(format === 'json' ? JSON.stringify(sheetJson(result), null, 2) + '\n' : sheetText(result, styleFor(io), values.verbose === true));
  return passed(result) ? 0 : 1;
}
