// Fuzzing every command that reads input with seeded mutants of the corpus (test/helpers/
// mutate.ts): whatever the mutant, the command exits 0, 1 or 2, never with an internal error;
// an exit 2 on bad content says FILE:LINE:COL (or is one of the few whole-file answers listed
// below); and `parse` prints what reads back to the same print. The seeds are fixed, so a run
// is the same everywhere; VIRTABLES_FUZZ_RUNS scales it (default 60 mutants per input kind),
// VIRTABLES_FUZZ_SEED moves it.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseListing } from '../../grammar/listing.js';
import { InputError } from '../../src/model/errors.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { describeCorpus, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { mutate, seeded } from '../helpers/mutate.js';

const RUNS = Number(process.env.VIRTABLES_FUZZ_RUNS ?? 60);
const SEED = Number(process.env.VIRTABLES_FUZZ_SEED ?? 14);
const scratch = mkdtempSync(join(tmpdir(), 'virtables-fuzz-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const corpus = (...parts: string[]) => join(REPO_CORPUS, ...parts);
const text = (path: string) => readFileSync(path, 'utf8');

/** A positioned error: `FILE:LINE:COL: message` (FILE is '-' for standard input). */
const POSITIONED = /^(?:virtables [a-z]+: )?[^\s:][^:\n]*:\d+:\d+: \S/m;
/** Answers about a whole input, where no line is to blame. */
const WHOLE_FILE = [
  /: (?:is empty|holds no |no networks?|nothing to )/,
  // A sheet naming a network the evidence lacks: about the answer, not a line of the sheet.
  /does not define network '|declares no guest '/,
  /: more than \d+ bytes/,
  /: input is \d+ bytes/,
  /two Xen host configurations/,
  /--domids gives/,
];

interface Case {
  readonly kind: string;
  readonly inputs: readonly string[];
  /** The command for a mutant of `input` written to `file` (its text also on standard input). */
  readonly argv: (file: string, input: string) => string[];
}

const DUMPS = [
  'seed-lab/clean-host.save',
  'seed-lab/lab-host.save',
  'diff/conntrack.save',
  'audit/natted.save',
  'xen/two-nics-nat.save',
].map((p) => corpus(p));
const NETS = [
  'network-xml/status-default.xml',
  'network-xml/concatenated.xml',
  'seed-lab/natted.xml',
  'seed-lab/host-only.xml',
  'audit/routed.xml',
].map((p) => corpus(p));
const XEN = [
  'xen/xend-config-nat.sxp',
  'xen/domains/nat-guest.cfg',
  'xen/domains/db.cfg',
  'xen/head-vif-nat-ip/online.xen',
].map((p) => corpus(p));
const SHEETS = ['expect/real/isolated.expect', 'expect/real/no-dns-leak.expect', 'expect/real/natted.expect'].map((p) =>
  corpus(p),
);
const REAL = (net: string, f: string) => join(SHARED_CORPUS, 'libvirt-real', net, f);
/** What each sheet is checked against, as its header says. */
const SHEET_EVIDENCE = (input: string): string[] =>
  input.endsWith('natted.expect')
    ? [
        '--dump',
        REAL('c-natted', 'after.txt'),
        '--before',
        REAL('c-natted', 'before.txt'),
        '--net',
        REAL('c-natted', 'network.xml'),
        '--rules',
        corpus('expect/real/portforward.txt'),
      ]
    : ['--dump', REAL('b-host-only', 'after.txt'), '--net', REAL('b-host-only', 'network.xml')];
const TOPOLOGIES = ['topology/seed-lab.topo', 'topology/xenserver-portforward.topo'].map((p) => corpus(p));

const CASES: readonly Case[] = [
  { kind: 'dump: parse', inputs: DUMPS, argv: () => ['parse', '-'] },
  { kind: 'dump: explain', inputs: DUMPS, argv: () => ['explain', '--format', 'table', '-'] },
  { kind: 'dump: diff', inputs: DUMPS, argv: (f) => ['diff', DUMPS[0]!, f] },
  { kind: 'dump: audit', inputs: DUMPS, argv: () => ['audit', '-', '--net', corpus('seed-lab/natted.xml')] },
  { kind: 'dump: trace', inputs: DUMPS, argv: () => ['trace', '-', '--matrix', '--services', 'icmp,tcp/22'] },
  { kind: 'network: net', inputs: [...NETS, ...XEN], argv: () => ['net', '-'] },
  { kind: 'network: compile', inputs: NETS, argv: () => ['compile', '-'] },
  { kind: 'network: audit', inputs: NETS, argv: (f) => ['audit', DUMPS[0]!, '--net', f] },
  {
    kind: 'topology: trace',
    inputs: TOPOLOGIES,
    argv: (f) => ['trace', DUMPS[0]!, '--topology', f, '--from', 'outside', '--to', 'host'],
  },
];

/** What is wrong with a command's answer to a mutant, or null. */
function problemOf(r: CliResult): string | null {
  if (![0, 1, 2].includes(r.code)) return `exit ${r.code}`;
  if (/internal error|RangeError|TypeError|Maximum call stack|heap/i.test(r.stderr))
    return `internal error: ${r.stderr.split('\n')[0]}`;
  if (r.code === 2 && !POSITIONED.test(r.stderr) && !WHOLE_FILE.some((w) => w.test(r.stderr)))
    return `an error without FILE:LINE:COL: ${r.stderr.split('\n')[0]}`;
  return null;
}

/** Runs a case's mutants; the failures, with the steps that made each mutant. */
async function fuzz(c: Case): Promise<{ failures: string[]; refused: number }> {
  const r = seeded(SEED + c.kind.length * 7919);
  const failures: string[] = [];
  let refused = 0;
  for (let i = 0; i < RUNS; i++) {
    const input = c.inputs[i % c.inputs.length]!;
    // Topology files name network files relative to themselves: made absolute, the mutant can live anywhere.
    const original = text(input).replace(/\.\.\/seed-lab\//g, `${corpus('seed-lab')}/`);
    const m = mutate(original, r);
    const file = join(scratch, `mutant-${i}${input.slice(input.lastIndexOf('.'))}`);
    writeFileSync(file, m.text);
    const out = await runCli(c.argv(file, input), m.text);
    if (out.code === 2) refused++;
    const problem = problemOf(out);
    if (problem) failures.push(`${input} after ${m.steps.join('; ')}: ${problem}`);
  }
  return { failures, refused };
}

describeCorpus('fuzzing expectation sheets (checked against the real captures their headers name)', () => {
  it('sheet: check', async () => {
    const { failures } = await fuzz({
      kind: 'sheet: check',
      inputs: SHEETS,
      argv: (_f, input) => ['check', '-', ...SHEET_EVIDENCE(input)],
    });
    expect(failures).toEqual([]);
  });
});

describe(`fuzzing every input reader (${RUNS} mutants per kind, seed ${SEED})`, () => {
  for (const c of CASES) {
    it(c.kind, async () => {
      const { failures, refused } = await fuzz(c);
      expect(failures).toEqual([]);
      // The mutants must not all be refused: some reach the command's real work.
      expect(refused).toBeLessThan(RUNS);
    });
  }

  it('parse prints what parses back to the same print', async () => {
    const r = seeded(SEED + 1);
    const failures: string[] = [];
    let printed = 0;
    for (let i = 0; i < RUNS * 2; i++) {
      const input = DUMPS[i % DUMPS.length]!;
      const m = mutate(text(input), r, { rounds: 1 });
      const first = await runCli(['parse', '-'], m.text);
      if (first.code !== 0) continue;
      printed++;
      const second = await runCli(['parse', '-'], first.stdout);
      if (second.code !== 0 || second.stdout !== first.stdout)
        failures.push(
          `${input} after ${m.steps.join('; ')}: ${second.code === 0 ? 'prints differently' : second.stderr.split('\n')[0]}`,
        );
    }
    expect(failures).toEqual([]);
    expect(printed).toBeGreaterThan(RUNS / 4);
  });

  it('listings: a positioned error or a listing, nothing else', () => {
    const r = seeded(SEED + 2);
    const failures: string[] = [];
    const inputs = [
      'listings/commands.txt',
      'listings/host-only+natted.L.txt',
      'listings/host-only+natted.Lv.txt',
      'listings/host-only+natted.S.txt',
    ].map((p) => corpus(p));
    for (let i = 0; i < RUNS; i++) {
      const input = inputs[i % inputs.length]!;
      const m = mutate(text(input), r);
      try {
        parseListing(m.text, 'l.txt');
      } catch (e) {
        if (!(e instanceof InputError) || !/^l\.txt:\d+:\d+: /.test(e.message))
          failures.push(`${input} after ${m.steps.join('; ')}: ${String(e)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
