// The collection directory: what `live --save-dir` writes and `live --from-dir` reads, so a
// host's state can be collected there and audited anywhere. Every file is optional on reading
// (a directory made by hand with `iptables-save > iptables-save.txt` is fine); the layout is
// documented in docs/commands/live.md.

import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UsageError } from '../model/errors.js';
import { hasControl, printable } from '../model/text.js';
import {
  byName,
  type Collection,
  type CollectedNetwork,
  type Problem,
  type ProblemKind,
  type Source,
} from './collect.js';

import { LAYOUT } from './layout-names.js';

export { LAYOUT };

/** nft -j output (a JSON object) rather than nft's text listing. */
export function isJson(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b === 0x7b;
  }
  return false;
}

/** A network's definition file inside the collection. */
export const networkFile = (name: string): string => join(LAYOUT.networks, `${name}.xml`);

const SOURCES: readonly Source[] = ['iptables-save', 'ip6tables-save', 'nft', 'libvirt'];
const KINDS: readonly ProblemKind[] = ['missing-tool', 'not-permitted', 'cannot-connect', 'failed'];

function manifest(c: Collection, version: string): string {
  return [
    '# virtables live collection (layout: docs/commands/live.md)',
    `host: ${c.host}`,
    ...(c.date === null ? [] : [`date: ${c.date}`]),
    `connect: ${c.connect ?? '(virsh default)'}`,
    `virtables: ${version}`,
    ...c.problems.map((p) => `problem: ${p.source} ${p.kind}: ${p.message.replace(/\n/g, ' ')}`),
    ...c.notes.map((n) => `note: ${n.replace(/\n/g, ' ')}`),
    '',
  ].join('\n');
}

/** Refuses a --save-dir that is a file or holds files already (checked before collecting, and again before writing). */
export function checkSaveDir(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new UsageError(`live: --save-dir ${dir} is not a directory`);
  if (readdirSync(dir).length > 0)
    throw new UsageError(
      `live: --save-dir ${dir} is not empty (give a new or empty directory, so no old file mixes in)`,
    );
}

/** Longest file name Linux takes (NAME_MAX, in bytes). */
const NAME_MAX = 255;

/** Writes the collection into DIR (created if missing; an existing one must be empty). */
export function writeCollection(dir: string, c: Collection, version: string): void {
  checkSaveDir(dir);
  for (const n of c.networks ?? []) {
    const bytes = Buffer.byteLength(`${n.name}.xml`);
    if (bytes > NAME_MAX) {
      throw new UsageError(
        `live: --save-dir cannot hold network "${printable(n.name)}": as ${LAYOUT.networks}/NAME.xml its file name is ${bytes} bytes, more than a file name may be (${NAME_MAX}); nothing was written (audit without --save-dir)`,
      );
    }
  }
  mkdirSync(join(dir, LAYOUT.networks), { recursive: true });
  writeFileSync(join(dir, LAYOUT.manifest), manifest(c, version));
  if (c.iptables) writeFileSync(join(dir, LAYOUT.iptables), c.iptables);
  if (c.ip6tables) writeFileSync(join(dir, LAYOUT.ip6tables), c.ip6tables);
  if (c.nft) writeFileSync(join(dir, isJson(c.nft) ? LAYOUT.nft : LAYOUT.nftText), c.nft);
  if (c.networks) {
    for (const n of c.networks) writeFileSync(join(dir, networkFile(n.name)), n.xml);
    writeFileSync(
      join(dir, LAYOUT.active),
      c.networks
        .filter((n) => n.active)
        .map((n) => `${n.name}\n`)
        .join(''),
    );
  }
}

function readIfPresent(path: string): Uint8Array | null {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'EACCES') throw new UsageError(`live: ${path}: permission denied`);
    throw new UsageError(`live: ${path}: ${(e as Error).message}`);
  }
}

function parseManifest(text: string): {
  host: string | null;
  date: string | null;
  connect: string | null;
  problems: Problem[];
  notes: string[];
} {
  const out = {
    host: null as string | null,
    date: null as string | null,
    connect: null as string | null,
    problems: [] as Problem[],
    notes: [] as string[],
  };
  for (const line of text.split(/\r\n|\r|\n/)) {
    const m = /^([a-z]+):([^\n]*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!;
    const value = m[2]!.trimStart();
    if (key === 'host') out.host = value;
    else if (key === 'date') out.date = value;
    else if (key === 'connect') out.connect = value === '(virsh default)' ? null : value;
    else if (key === 'note') out.notes.push(value);
    else if (key === 'problem') {
      const p = /^(\S+) (\S+): (.*)$/.exec(value);
      if (p && SOURCES.includes(p[1] as Source) && KINDS.includes(p[2] as ProblemKind))
        out.problems.push({ source: p[1] as Source, kind: p[2] as ProblemKind, message: p[3]! });
    }
  }
  return out;
}

/** Reads a collection directory; what it lacks is said in notes (or problems, when its manifest recorded them). */
export function readCollection(dir: string): Collection {
  if (!existsSync(dir)) throw new UsageError(`live: --from-dir ${dir}: no such directory`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`live: --from-dir ${dir} is not a directory`);
  const manifestBytes = readIfPresent(join(dir, LAYOUT.manifest));
  const m = manifestBytes ? parseManifest(new TextDecoder().decode(manifestBytes)) : null;
  const notes = [...(m?.notes ?? [])];
  const problems = [...(m?.problems ?? [])];
  const iptables = readIfPresent(join(dir, LAYOUT.iptables));
  const ip6tables = readIfPresent(join(dir, LAYOUT.ip6tables));
  const nft = readIfPresent(join(dir, LAYOUT.nft)) ?? readIfPresent(join(dir, LAYOUT.nftText));
  let networks: CollectedNetwork[] | null = null;
  const netDir = join(dir, LAYOUT.networks);
  if (existsSync(netDir) && statSync(netDir).isDirectory()) {
    const named = readdirSync(netDir)
      .filter((f) => f.endsWith('.xml'))
      .sort();
    // A name no libvirt network has (XML forbids control characters) must not reach the terminal.
    const files = named.filter((f) => !hasControl(f));
    for (const f of named.filter(hasControl))
      problems.push({
        source: 'libvirt',
        kind: 'failed',
        message: `${printable(join(netDir, f))} not read: its name holds a control character`,
      });
    const activeBytes = readIfPresent(join(dir, LAYOUT.active));
    const active =
      activeBytes === null
        ? null
        : new Set(
            new TextDecoder()
              .decode(activeBytes)
              .split(/\r\n|\r|\n/)
              .filter((l) => l.trim() !== ''),
          );
    if (active === null && files.length > 0)
      notes.push(`${join(dir, LAYOUT.active)} is missing: every network in ${netDir} is taken as running`);
    networks = files
      .map((f) => {
        const name = f.slice(0, -'.xml'.length);
        return { name, active: active === null || active.has(name), xml: readFileSync(join(netDir, f)) };
      })
      .sort(byName);
  }
  if (!iptables && !ip6tables && !nft && networks === null) {
    throw new UsageError(
      `live: --from-dir ${dir} holds none of the files live mode collects (${LAYOUT.iptables}, ${LAYOUT.ip6tables}, ${LAYOUT.nft}, ${LAYOUT.networks}/NAME.xml)`,
    );
  }
  if (!m) {
    if (!iptables) notes.push(`${dir} has no ${LAYOUT.iptables}`);
    if (networks === null) notes.push(`${dir} has no ${LAYOUT.networks}/ directory: no libvirt networks`);
  }
  return {
    host: m?.host ?? basename(dir),
    date: m?.date ?? null,
    connect: m?.connect ?? null,
    iptables,
    ip6tables,
    nft,
    networks,
    problems,
    notes,
  };
}
