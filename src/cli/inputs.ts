// Reading the inputs commands share: network definitions (libvirt XML, a Xen host's
// xend-config.sxp with its domU configurations, or a Xen set-up file), given as files or
// directories, and dumps of every kind (src/input/read.ts), as files, directories and standard
// input, gathered into hosts (src/model/host.ts). `-` is standard input, readable once.

import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Dump } from '../model/dump.js';
import type { RuleSink } from '../../grammar/iptables-save.js';
import { UsageError } from '../model/errors.js';
import { assembleHost, hostDumps, type Host } from '../model/host.js';
import { kindName, parseDumpText, type DumpInput } from '../input/read.js';
import { sniff } from '../input/sniff.js';
import { LAYOUT } from '../live/layout-names.js';
import type { AnyNetwork } from '../model/network.js';
import { decodeText } from '../model/text.js';
import { readNetworkFiles } from '../input/networks.js';
import type { Io } from './io.js';
import { count, progressFor } from './progress.js';

/** Files a directory given to --net contributes: its network definitions, sorted by name. */
const NETWORK_FILE = /\.(xml|sxp|cfg|xen)$/;

/** Each path, with directories replaced by the network files in them. */
export function expandNetworkPaths(command: string, paths: readonly string[]): string[] {
  return paths.flatMap((path) => {
    if (path === '-') return [path];
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      return [path]; // reading it will say what is wrong
    }
    if (!isDir) return [path];
    const files = readdirSync(path)
      .filter((f) => NETWORK_FILE.test(f))
      .sort()
      .map((f) => join(path, f));
    if (files.length === 0)
      throw new UsageError(`${command}: ${path} holds no network definitions (*.xml, *.sxp, *.cfg, *.xen)`);
    return files;
  });
}

/** Reads the network definitions given as files and directories (`-` once), as src/input/networks.ts does. */
export function readNetworkInputs(
  command: string,
  paths: readonly string[],
  io: Io,
  options: { readonly domids?: readonly number[] | null } = {},
): AnyNetwork[] {
  const files = expandNetworkPaths(command, paths);
  if (files.filter((f) => f === '-').length > 1)
    throw new UsageError(`${command}: standard input ('-') can be read only once`);
  return readNetworkFiles(files, io.readBytes, { command, domids: options.domids ?? null });
}

// ---------------------------------------------------------------------------------------------
// Dumps: the one reader every command uses. Each input is a file, `-` (standard input) or a
// directory (as `live --save-dir` writes one); each file is recognised by its content.

/** Files in a directory that are never dumps: the live collection's manifest. */
const NOT_DUMPS: ReadonlySet<string> = new Set([LAYOUT.manifest]);

/** Each dump path, with directories replaced by the files in them that hold dumps (sorted by name). */
export function expandDumpPaths(
  command: string,
  paths: readonly string[],
  io: Io,
): Array<{ path: string; dir: string | null }> {
  return paths.flatMap((path): Array<{ path: string; dir: string | null }> => {
    if (path === '-' || !isDirectory(path)) return [{ path, dir: null }];
    const files = readdirSync(path)
      .filter((f) => !NOT_DUMPS.has(f))
      .sort()
      .map((f) => join(path, f))
      .filter((f) => !isDirectory(f) && isDumpFile(f, io));
    if (files.length === 0)
      throw new UsageError(
        `${command}: ${path} holds no firewall dump (iptables-save, ip6tables-save, nft list ruleset or nft -j list ruleset output)`,
      );
    return files.map((f) => ({ path: f, dir: path }));
  });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // reading it will say what is wrong
  }
}

/** Does a file found in a directory hold a dump (text that sniffs as one)? */
function isDumpFile(path: string, io: Io): boolean {
  let text: string;
  try {
    text = decodeText(path, io.readBytes(path));
  } catch {
    return false;
  }
  const kind = sniff(text);
  return kind !== 'network' && kind !== 'unknown';
}

/**
 * Reads one dump, whatever its kind. An empty file is an input holding no tables (never an IPv4
 * dump with ACCEPT policies); text that is no dump is refused, saying what it looks like.
 */
export function readDumpInput(command: string, path: string, io: Io, sink?: RuleSink): DumpInput {
  return parseDumpInput(command, readText(path, io), path, io, sink);
}

/**
 * A file (or `-`) decoded; its bytes are let go when this returns (an 11 MB dump is not held twice while it is parsed).
 */
function readText(path: string, io: Io): string {
  return decodeText(path, io.readBytes(path));
}

/** Reads a dump already read as text, with the progress line on a terminal while a large one is parsed. */
function parseDumpInput(command: string, text: string, path: string, io: Io, sink?: RuleSink): DumpInput {
  const progress = progressFor(io);
  const name = path === '-' ? 'standard input' : path;
  try {
    const onProgress = (_lines: number, rules: number): void =>
      progress.update(`parsing ${name}: ${count(rules)} rules…`);
    return parseDumpText(text, path, { command, onProgress, ...(sink ? { sink } : {}) });
  } finally {
    progress.done();
  }
}

/** Dumps of one host: at most one iptables dump per family; every nft input adds its tables. */
function hostOf(command: string, name: string, inputs: readonly DumpInput[]): Host {
  const dumps: Dump[] = [];
  for (const input of inputs) {
    if (!input.dump) continue;
    const family = input.dump.family ?? 'ipv4';
    const other = dumps.find((d) => (d.family ?? 'ipv4') === family);
    if (other)
      throw new UsageError(
        `${command}: two ${family === 'ipv6' ? 'IPv6' : 'IPv4'} iptables dumps for one host (${other.file} and ${input.file}); give one per family`,
      );
    dumps.push(input.dump);
  }
  const rulesets = inputs.flatMap((i) => (i.nft ? [i.nft] : []));
  const seen = new Map<string, string>();
  for (const r of rulesets) {
    for (const t of r.tables) {
      const key = `${t.family} ${t.name}`;
      const first = seen.get(key);
      if (first)
        throw new UsageError(`${command}: table ${key} is in two nft inputs for one host (${first} and ${r.file})`);
      seen.set(key, r.file);
    }
  }
  return assembleHost(
    name,
    inputs.map((i) => ({ file: i.file, kind: i.kind })),
    dumps,
    rulesets,
  );
}

function checkStdin(command: string, paths: readonly string[]): void {
  if (paths.filter((f) => f === '-').length > 1)
    throw new UsageError(`${command}: standard input ('-') can be read only once`);
}

/** Reads every input as one host (v4 + v6 iptables-save and nft, as files or a directory). */
export function readHost(command: string, paths: readonly string[], io: Io): Host {
  checkStdin(command, paths);
  const found = expandDumpPaths(command, paths, io);
  const inputs = found.map((f) => readDumpInput(command, f.path, io));
  return hostOf(command, hostName(paths), inputs);
}

/**
 * Reads inputs as hosts: each directory is one host; loose files form one host until one repeats
 * a family or an nft table already read (then a new host starts), as audit reads a pre-commit's files.
 */
export function readHosts(command: string, paths: readonly string[], io: Io): Host[] {
  checkStdin(command, paths);
  const hosts: Host[] = [];
  let loose: DumpInput[] = [];
  const flush = (): void => {
    if (loose.length > 0) hosts.push(hostOf(command, hostName(loose.map((i) => i.file)), loose));
    loose = [];
  };
  for (const path of paths) {
    if (path !== '-' && isDirectory(path)) {
      flush();
      hosts.push(
        hostOf(
          command,
          path,
          expandDumpPaths(command, [path], io).map((f) => readDumpInput(command, f.path, io)),
        ),
      );
      continue;
    }
    const input = readDumpInput(command, path, io);
    const family = input.dump?.family ?? 'ipv4';
    const clash =
      (input.dump && loose.some((i) => i.dump && (i.dump.family ?? 'ipv4') === family)) ||
      (input.nft &&
        loose.some((i) =>
          i.nft?.tables.some((t) => input.nft!.tables.some((u) => u.family === t.family && u.name === t.name)),
        ));
    if (clash) flush();
    loose.push(input);
  }
  flush();
  return hosts;
}

function hostName(files: readonly string[]): string {
  return files.map((f) => (f === '-' ? 'standard input' : f)).join(' + ');
}

/** What each input of a host was, for messages (`after.nft.txt (nft text)`). */
export function describeInputs(host: Host, style: ' is ' | 'parens' = 'parens'): string {
  return host.inputs
    .map((i) =>
      style === 'parens'
        ? `${i.file === '-' ? 'standard input' : i.file} (${kindName(i.kind)})`
        : `${i.file === '-' ? 'standard input' : i.file} is ${kindName(i.kind)}`,
    )
    .join(', ');
}

/**
 * For commands that follow iptables rules only (trace, diagram, check): the host's one iptables
 * dump (no tables when every input was empty). An nft ruleset is named as such, not misread.
 */
export function iptablesDumpOf(command: string, host: Host): Dump {
  const dumps = hostDumps(host);
  if (dumps.length === 1) return dumps[0]!;
  if (dumps.length > 1) throw new UsageError(`${command}: give one dump (IPv4 or IPv6), got ${describeInputs(host)}`);
  if (host.nft && host.nft.tables.length > 0)
    throw new UsageError(
      `${command}: ${describeInputs(host, ' is ')}; ${command} follows iptables rules (iptables-save output); nft rulesets are read by parse, explain and diff`,
    );
  // Only empty inputs: no tables at all (iptables-save of a host without iptables tables prints nothing).
  return { file: host.inputs[0]?.file ?? '-', family: null, tables: [], comments: [] };
}

/**
 * Parses a dump (iptables-save only), with the progress line: for inputs that are iptables by contract (compile
 * --base).
 */
export function readDump(path: string, io: Io, command = 'virtables'): Dump {
  const input = readDumpInput(command, path, io);
  if (input.dump) return input.dump;
  if (input.kind === 'empty') return { file: path, family: null, tables: [], comments: [] };
  throw new UsageError(
    `${command}: ${path === '-' ? 'standard input' : path} is ${kindName(input.kind)}; an iptables-save dump is expected here`,
  );
}

/**
 * audit's positionals: dumps and network definitions together (a pre-commit hook passes both kinds
 * of changed file). Dumps in one directory are one host; a second dump of a family, or a second
 * copy of an nft table, starts another host. A directory's network files count as definitions.
 */
export function readAuditInputs(
  command: string,
  paths: readonly string[],
  io: Io,
): { hosts: Host[]; networkFiles: string[] } {
  checkStdin(command, paths);
  const networkFiles: string[] = [];
  const inputs: DumpInput[] = [];
  for (const path of paths) {
    if (path !== '-' && isDirectory(path)) {
      const nets = readdirSync(path)
        .filter((f) => NETWORK_FILE.test(f))
        .sort()
        .map((f) => join(path, f));
      const dumps = readdirSync(path)
        .filter((f) => !NOT_DUMPS.has(f))
        .sort()
        .map((f) => join(path, f))
        .filter((f) => !isDirectory(f) && !NETWORK_FILE.test(f) && isDumpFile(f, io));
      if (nets.length === 0 && dumps.length === 0)
        throw new UsageError(`${command}: ${path} holds no firewall dump and no network definition`);
      networkFiles.push(...nets);
      for (const f of dumps) inputs.push(readDumpInput(command, f, io));
      continue;
    }
    const text = readText(path, io);
    if (path !== '-' && sniff(text) === 'network') networkFiles.push(path);
    else inputs.push(parseDumpInput(command, text, path, io));
  }
  const groups: Array<{ dir: string; inputs: DumpInput[] }> = [];
  for (const input of inputs) {
    const dir = input.file === '-' ? '-' : dirname(input.file);
    const group = groups.find((g) => g.dir === dir && !g.inputs.some((i) => clash(i, input)));
    if (group) group.inputs.push(input);
    else groups.push({ dir, inputs: [input] });
  }
  // Hosts told apart by their directory alone: say so, since one host's files kept in two places
  // would be audited as two half-hosts (each missing the other's rules).
  const apart = groups.filter((g, i) =>
    groups.some((h, j) => j < i && !g.inputs.some((x) => h.inputs.some((y) => clash(x, y)))),
  );
  if (apart.length > 0 && !io.quiet) {
    io.stderr(
      `virtables ${command}: note: read as ${groups.length} hosts, one per directory (${groups.map((g) => g.dir).join(', ')}); ` +
        `if these files are one host's, put them in one directory\n`,
    );
  }
  return { hosts: groups.map((g) => hostOf(command, hostName(g.inputs.map((i) => i.file)), g.inputs)), networkFiles };
}

/** Two inputs one host cannot have both of: two dumps of one family, or two copies of an nft table. */
function clash(a: DumpInput, b: DumpInput): boolean {
  if (a.dump && b.dump && (a.dump.family ?? 'ipv4') === (b.dump.family ?? 'ipv4')) return true;
  return !!(
    a.nft &&
    b.nft &&
    a.nft.tables.some((t) => b.nft!.tables.some((u) => u.family === t.family && u.name === t.name))
  );
}
