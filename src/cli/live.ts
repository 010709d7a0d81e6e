// virtables live [--format text|json|sarif] [--fail-on …] [--connect URI] [--save-dir DIR] [--from-dir DIR]
// Collects this host's state with read-only commands (src/live) or reads a collection
// directory, then audits it: running networks as --net, defined-but-stopped ones as --inactive.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { match } from 'ts-pattern';
import { UsageError } from '../model/errors.js';
import { printable } from '../model/text.js';
import { collectHost, type Collection } from '../live/collect.js';
import { checkSaveDir, isJson, LAYOUT, networkFile, readCollection, writeCollection } from '../live/layout.js';
import { zxRunner, type Runner } from '../live/run.js';
import { connectProblem, connectSource } from '../live/uri.js';
import { oneOf, parseCommandArgs } from './args.js';
import type { Io } from './io.js';
import { count, progressFor } from './progress.js';
import { styleFor } from './style.js';

export const help = `Usage: virtables live [--format text|json|sarif] [--fail-on error|warning|info]
                      [--connect URI] [--save-dir DIR] [--from-dir DIR]

Audits this host as it is now. Runs, and only runs, these read-only commands:
  iptables-save, ip6tables-save, nft -j list ruleset (when nft is installed; nft list ruleset
  for an nft without -j),
  virsh --readonly net-list --all --name, virsh --readonly net-list --name (running ones),
  virsh --readonly net-dumpxml --network NAME (each network)
then audits them as one host (IPv4, IPv6 and nft together, each finding once) with the
networks: running ones as --net, defined but stopped ones as --inactive. Needs root for iptables-save. Nothing goes through a shell; no firewall or
network is changed (virsh is opened read-only).

  --format text         findings for people (default)
  --format json         the audit's JSON with a "collection" member: host, files, networks,
                        what could not be collected
  --format sarif        SARIF 2.1.0; what could not be collected is in the run's invocation
  --fail-on LEVEL       exit 1 when a finding is at least this severe: error (default), warning
                        or info
  -c, --connect URI     the libvirt connection of this host (default: LIBVIRT_DEFAULT_URI, else
                        virsh's own); URIs that run a program (+ext, +ssh, command=, …) or
                        reach another host are refused (docs/commands/live.md)
  --save-dir DIR        also write what was collected into DIR (new or empty), in the layout
                        --from-dir reads (docs/commands/live.md)
  --from-dir DIR        audit a directory collected earlier, here or on another host, instead
                        of this host (iptables-save.txt, ip6tables-save.txt, nft-ruleset.json
                        or nft-ruleset.txt, networks/NAME.xml, networks/active.txt; every
                        file optional)
  -h, --help            this text

Exit status: 0 clean, 1 findings at --fail-on, 2 usage error or bad input, or something could
not be collected (tool missing, not root, libvirt absent): the rest is audited and the
missing parts are named.
`;

interface Values {
  help?: boolean;
  format?: string;
  'fail-on'?: string;
  connect?: string;
  'save-dir'?: string;
  'from-dir'?: string;
}

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
    c.iptables && place(LAYOUT.iptables, c.iptables), c.ip6tables && place(LAYOUT.ip6tables, c.ip6tables),
    c.nft && place(isJson(c.nft) ? LAYOUT.nft : LAYOUT.nftText, c.nft),
  ].filter((d): d is string => typeof d === 'string');
  const networks = (c.networks ?? []).map((n) => ({ name: n.name, active: n.active, file: place(networkFile(n.name), n.xml) }));
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
  return new TextDecoder().decode(bytes).split('\n').filter((l) => /^(\[\d+:\d+\] )?-[AI] /.test(l)).length;
}

function summary(c: Collection, from: string | null, io: Io): string {
  const s = styleFor(io);
  const dump = (bytes: Uint8Array | null) => (bytes === null ? s.red('not collected') : `${count(ruleCount(bytes))} rules`);
  const nets = c.networks === null ? s.red('not collected') : c.networks.length === 0 ? 'none defined' : c.networks.map((n) => `${printable(n.name)} (${n.active ? 'running' : 'defined, not running'})`).join(', ');
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
          ...c.problems.map((p) => ({ level: 'error', message: { text: `${p.source}: ${p.message}` }, descriptor: { id: p.kind } })),
          ...c.notes.map((n) => ({ level: 'note', message: { text: n } })),
        ],
      },
    ];
    r.properties = { ...((r.properties as object | undefined) ?? {}), collection };
  }
  return sarif;
}

export async function runLive(argv: string[], io: Io, runner: Runner): Promise<number> {
  const { values, positionals } = parseCommandArgs<Values>('live', argv, {
    format: { type: 'string', short: 'f' },
    'fail-on': { type: 'string' },
    connect: { type: 'string', short: 'c' },
    'save-dir': { type: 'string' },
    'from-dir': { type: 'string' },
  });
  if (values.help) {
    io.stdout(help);
    return 0;
  }
  const format = oneOf('live', '--format', values.format, ['text', 'json', 'sarif'] as const, 'text');
  const failOn = values['fail-on'] === undefined ? null : oneOf('live', '--fail-on', values['fail-on'], ['error', 'warning', 'info'] as const, 'error');
  if (positionals.length > 0) throw new UsageError(`live: takes no file arguments (got '${positionals[0]}'); use --from-dir DIR for collected files`);
  const from = values['from-dir'] ?? null;
  if (from !== null && (values.connect !== undefined || values['save-dir'] !== undefined)) throw new UsageError('live: --from-dir reads a collection; --connect and --save-dir are for collecting one');

  let collection: Collection;
  let dir: string | null = from;
  if (from !== null) {
    collection = readCollection(from);
  } else {
    if (values['save-dir'] !== undefined) checkSaveDir(values['save-dir']);
    const source = connectSource(values.connect, io.env, process.getuid?.() ?? 0, readConf);
    const unusable = source.uri === null ? null : connectProblem(source.uri);
    if (unusable) throw new UsageError(`live: the libvirt URI ${printable(JSON.stringify(source.uri))} (${source.from}) ${unusable}`);
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
      const { VERSION } = await import('./main.js');
      writeCollection(values['save-dir'], collection, VERSION);
      dir = values['save-dir'];
    }
  }

  const inputs = auditInputs(collection, dir);
  if (format === 'text') io.stdout(summary(collection, from, io));
  for (const p of collection.problems) io.stderr(`virtables live: could not collect ${p.source}: ${printable(p.message)}\n`);
  if (!io.quiet) for (const n of collection.notes) io.stderr(`virtables live: note: ${printable(n)}\n`);

  if (inputs.dumps.length === 0) {
    io.stderr('virtables live: nothing to audit: no iptables-save, ip6tables-save or nft ruleset output was collected\n');
    // JSON still says what was collected (the networks, say), for the program reading it.
    if (format === 'json') io.stdout(JSON.stringify({ collection: collectionJson(collection, from, inputs) }, null, 2) + '\n');
    return 2;
  }
  const code = await audit(inputs, format, failOn, io, collection, collectionJson(collection, from, inputs));
  if (collection.problems.length > 0) {
    io.stderr(`virtables live: incomplete: ${collection.problems.map((p) => p.source).join(', ')} could not be collected; the audit covers the rest\n`);
    return 2;
  }
  return code;
}

/** Runs the audit on the collected files, reading them from memory; JSON and SARIF gain the collection. */
async function audit(inputs: AuditInputs, format: 'text' | 'json' | 'sarif', failOn: string | null, io: Io, c: Collection, collection: unknown): Promise<number> {
  const { run } = await import('./audit.js');
  let captured = '';
  const auditIo: Io = {
    ...io,
    stdout: format === 'text' ? io.stdout : (t) => void (captured += t),
    readBytes: (path) => inputs.files.get(path) ?? io.readBytes(path),
  };
  const argv = [...inputs.dumps, ...inputs.running.flatMap((n) => ['--net', n]), ...inputs.stopped.flatMap((n) => ['--inactive', n]), '--format', format, ...(failOn ? ['--fail-on', failOn] : [])];
  const code = await run(argv, auditIo);
  if (format !== 'text') {
    const report = JSON.parse(captured) as Record<string, unknown>;
    const out = match(format)
      .with('json', () => ({ collection, ...report }))
      .with('sarif', () => withInvocation(report, c, collection))
      .exhaustive();
    io.stdout(JSON.stringify(out, null, 2) + '\n');
  }
  return code;
}

export async function run(argv: string[], io: Io): Promise<number> {
  return runLive(argv, io, zxRunner({ env: io.env }));
}
