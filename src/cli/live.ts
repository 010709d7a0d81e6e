// virtables live [--format text|json|sarif] [--fail-on …] [--connect URI] [--save-dir DIR] [--from-dir DIR]
// Collects this host's state with read-only commands (src/live) or reads a collection
// directory, then audits it: running networks as --net, defined-but-stopped ones as --inactive.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { match } from 'ts-pattern';
import { UsageError } from '../model/errors.js';
import { printable } from '../model/text.js';
import { VERSION } from '../package.js';
import { collectHost, type Collection } from '../live/collect.js';
import { checkSaveDir, isJson, LAYOUT, networkFile, readCollection, writeCollection } from '../live/layout.js';
import { zxRunner, type Runner } from '../live/run.js';
import { connectProblem, connectSource } from '../live/uri.js';
import { auditJson } from '../audit/json.js';
import type { Severity } from '../audit/types.js';
import { parseCommand } from './args.js';
import type { Args } from './spec.js';
import type { Io } from './io.js';
import { count, progressFor } from './progress.js';
import { styleFor } from './style.js';

/** A libvirt client configuration file's text, or null when there is none to read. */
function readConf(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Where the audit reads each collected file: the directory's files, or in-memory `live:` names. */
interface AuditInputs {
  readonly dumps: string[];
  readonly running: string[];
  readonly stopped: string[];
  readonly networks: ReadonlyArray<{ readonly name: string; readonly active: boolean; readonly file: string }>;
  readonly files: ReadonlyMap<string, Uint8Array>;
}

function auditInputs(c: Collection, dir: string | null): AuditInputs {
  const files = new Map<string, Uint8Array>();
  const place = (layoutPath: string, bytes: Uint8Array): string => {
    const name = dir === null ? `live:${layoutPath}` : join(dir, layoutPath);
    files.set(name, bytes);
    return name;
  };
  // iptables-save, ip6tables-save and the nft ruleset of one host: the audit reads them as one.
  const dumps = [
    c.iptables && place(LAYOUT.iptables, c.iptables),
    c.ip6tables && place(LAYOUT.ip6tables, c.ip6tables),
    c.nft && place(isJson(c.nft) ? LAYOUT.nft : LAYOUT.nftText, c.nft),
  ].filter((d): d is string => typeof d === 'string');
  const networks = (c.networks ?? []).map((n) => ({
    name: n.name,
    active: n.active,
    file: place(networkFile(n.name), n.xml),
  }));
  const running = networks.filter((n) => n.active).map((n) => n.file);
  const stopped = networks.filter((n) => !n.active).map((n) => n.file);
  return { dumps, running, stopped, networks, files };
}

/** Rules in an nft listing (JSON objects or text lines inside chains), for the summary only. */
function nftRuleCount(bytes: Uint8Array): number {
  const text = new TextDecoder().decode(bytes);
  if (isJson(bytes)) return text.split('{"rule":').length - 1;
  let depth = 0;
  let n = 0;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (depth === 2 && t !== '' && t !== '}' && !/^(type |policy |comment |devices? )/.test(t)) n++;
    if (t.endsWith('{')) depth++;
    else if (t === '}') depth--;
  }
  return n;
}

/** Rules in an iptables-save text, counted from its `-A`/`-I` lines (for the summary only). */
function ruleCount(bytes: Uint8Array): number {
  return new TextDecoder()
    .decode(bytes)
    .split('\n')
    .filter((l) => /^(\[\d+:\d+\] )?-[AI] /.test(l)).length;
}

function summary(c: Collection, from: string | null, io: Io): string {
  const s = styleFor(io);
  const dump = (bytes: Uint8Array | null) =>
    bytes === null ? s.red('not collected') : `${count(ruleCount(bytes))} rules`;
  const nets =
    c.networks === null
      ? s.red('not collected')
      : c.networks.length === 0
        ? 'none defined'
        : c.networks.map((n) => `${printable(n.name)} (${n.active ? 'running' : 'defined, not running'})`).join(', ');
  return [
    s.bold(printable(`virtables live: ${c.host}${c.date ? `, ${c.date}` : ''}${from ? ` (from ${from})` : ''}`)),
    `  iptables-save     ${dump(c.iptables)}`,
    `  ip6tables-save    ${dump(c.ip6tables)}`,
    `  nft ruleset       ${c.nft === null ? s.red('not collected') : `${count(nftRuleCount(c.nft))} rules`}`,
    `  libvirt networks  ${nets}`,
    '',
    '',
  ].join('\n');
}

function collectionJson(c: Collection, from: string | null, inputs: AuditInputs) {
  return {
    host: c.host,
    date: c.date,
    connect: c.connect,
    fromDir: from,
    files: inputs.dumps,
    networks: inputs.networks,
    libvirt: c.networks !== null,
    nft: c.nft !== null,
    problems: c.problems,
    notes: c.notes,
  };
}

/** SARIF: what could not be collected becomes the run's invocation notifications. */
function withInvocation(sarif: { runs?: Array<Record<string, unknown>> }, c: Collection, collection: unknown): unknown {
  for (const r of sarif.runs ?? []) {
    r.invocations = [
      {
        executionSuccessful: c.problems.length === 0,
        toolExecutionNotifications: [
          ...c.problems.map((p) => ({
            level: 'error',
            message: { text: `${p.source}: ${p.message}` },
            descriptor: { id: p.kind },
          })),
          ...c.notes.map((n) => ({ level: 'note', message: { text: n } })),
        ],
      },
    ];
    r.properties = { ...((r.properties as object | undefined) ?? {}), collection };
  }
  return sarif;
}

async function collectAndAudit({ values, positionals }: Args<'live'>, io: Io, runner: Runner): Promise<number> {
  const format = values.format ?? 'text';
  const failOn = values['fail-on'] ?? null;
  if (positionals.length > 0)
    throw new UsageError(
      `live: takes no file arguments (got '${positionals[0]}'); use --from-dir DIR for collected files`,
    );
  const from = values['from-dir'] ?? null;
  if (from !== null && (values.connect !== undefined || values['save-dir'] !== undefined))
    throw new UsageError('live: --from-dir reads a collection; --connect and --save-dir are for collecting one');

  let collection: Collection;
  let dir: string | null = from;
  if (from !== null) {
    collection = readCollection(from);
  } else {
    if (values['save-dir'] !== undefined) checkSaveDir(values['save-dir']);
    const source = connectSource(values.connect, io.env, process.getuid?.() ?? 0, readConf);
    const unusable = source.uri === null ? null : connectProblem(source.uri);
    if (unusable)
      throw new UsageError(
        `live: the libvirt URI ${printable(JSON.stringify(source.uri))} (${source.from}) ${unusable}`,
      );
    const progress = progressFor(io);
    try {
      collection = await collectHost({
        connect: source.uri,
        runner,
        onCommand: (cmd) => progress.update(`collecting: ${cmd.join(' ')}…`),
      });
    } finally {
      progress.done();
    }
    if (values['save-dir'] !== undefined) {
      writeCollection(values['save-dir'], collection, VERSION);
      dir = values['save-dir'];
    }
  }

  const inputs = auditInputs(collection, dir);
  if (format === 'text') io.stdout(summary(collection, from, io));
  for (const p of collection.problems)
    io.stderr(`virtables live: could not collect ${p.source}: ${printable(p.message)}\n`);
  if (!io.quiet) for (const n of collection.notes) io.stderr(`virtables live: note: ${printable(n)}\n`);

  if (inputs.dumps.length === 0) {
    io.stderr(
      'virtables live: nothing to audit: no iptables-save, ip6tables-save or nft ruleset output was collected\n',
    );
    // JSON still says what was collected (the networks, say), for the program reading it.
    if (format === 'json')
      io.stdout(JSON.stringify({ collection: collectionJson(collection, from, inputs) }, null, 2) + '\n');
    return 2;
  }
  const code = await audit(inputs, format, failOn, io, collection, collectionJson(collection, from, inputs));
  if (collection.problems.length > 0) {
    io.stderr(
      `virtables live: incomplete: ${collection.problems.map((p) => p.source).join(', ')} could not be collected; the audit covers the rest\n`,
    );
    return 2;
  }
  return code;
}

/** Audits the collected files, read from memory, with the audit's own code; JSON and SARIF gain the collection. */
async function audit(
  inputs: AuditInputs,
  format: 'text' | 'json' | 'sarif',
  failOn: Severity | null,
  io: Io,
  c: Collection,
  collection: unknown,
): Promise<number> {
  const { CHECKS } = await import('../audit/checks/index.js');
  const { auditExit, auditFiles, auditSarif, renderAudit } = await import('./audit.js');
  const auditIo: Io = { ...io, readBytes: (path) => inputs.files.get(path) ?? io.readBytes(path) };
  const outcome = await auditFiles(
    { files: inputs.dumps, net: inputs.running, inactive: inputs.stopped, checks: CHECKS },
    auditIo,
  );
  const out = await match(format)
    .with('text', () => renderAudit(outcome, 'text', auditIo))
    .with('json', async () => JSON.stringify({ collection, ...auditJson(outcome.reports) }, null, 2) + '\n')
    .with('sarif', async () => JSON.stringify(withInvocation(await auditSarif(outcome), c, collection), null, 2) + '\n')
    .exhaustive();
  io.stdout(out);
  return auditExit(outcome.reports, failOn ?? 'error');
}

/** `live` as the tests drive it: argv parsed as the command table says, with a runner of their own. */
export async function runLive(argv: string[], io: Io, runner: Runner): Promise<number> {
  return collectAndAudit(parseCommand('live', argv), io, runner);
}

export async function run(args: Args<'live'>, io: Io): Promise<number> {
  return collectAndAudit(args, io, zxRunner({ env: io.env }));
}
