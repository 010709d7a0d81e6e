// Reading the inputs commands share: network definitions (libvirt XML, a Xen host's
// xend-config.sxp with its domU configurations, or a Xen set-up file), given as files or
// directories, and dumps. `-` is standard input, readable once.

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseSaveBytes } from '../../grammar/iptables-save.js';
import type { Dump } from '../model/dump.js';
import { UsageError } from '../model/errors.js';
import type { AnyNetwork } from '../model/network.js';
import { decodeText, firstContentLine } from '../model/text.js';
import { readNetworks } from '../network/libvirt.js';
import { inputKind, readXenNetwork, type XenSource } from '../network/xen.js';
import { readXenSetup } from '../network/xen-setup.js';
import type { Io } from './io.js';
import { count, progressFor } from './progress.js';
import { pushAll } from '../model/lists.js';

/** The one-file Xen set-up format starts with a `network …` or `vif vifD.N …` line (domU configs say `vif = [`). */
const XEN_SETUP = /^(?:network\s+\S|vif\s+[^\s=])/;

/** Files a directory given to --net contributes: its network definitions, sorted by name. */
const NETWORK_FILE = /\.(xml|sxp|cfg|xen)$/;

/** Each path, with directories replaced by the network files in them. */
export function expandNetworkPaths(command: string, paths: readonly string[]): string[] {
  return paths.flatMap((path) => {
    if (path === '-') return [path];
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      return [path]; // reading it will say what is wrong
    }
    if (!isDir) return [path];
    const files = readdirSync(path).filter((f) => NETWORK_FILE.test(f)).sort().map((f) => join(path, f));
    if (files.length === 0) throw new UsageError(`${command}: ${path} holds no network definitions (*.xml, *.sxp, *.cfg, *.xen)`);
    return files;
  });
}

export interface NetworkInputOptions {
  /** The domain ids of the domU configurations, in order (default 1, 2, …). */
  readonly domids?: readonly number[] | null;
}

/**
 * Reads network definitions in order: libvirt XML and Xen set-up files give networks as they
 * come; a xend-config.sxp and domU configurations together make one Xen network, placed
 * where the first of them was given.
 */
export function readNetworkInputs(command: string, paths: readonly string[], io: Io, options: NetworkInputOptions = {}): AnyNetwork[] {
  const files = expandNetworkPaths(command, paths);
  if (files.filter((f) => f === '-').length > 1) throw new UsageError(`${command}: standard input ('-') can be read only once`);
  const out: Array<AnyNetwork | 'xen-host'> = [];
  let xend: XenSource | null = null;
  const domains: XenSource[] = [];
  for (const file of files) {
    const text = decodeText(file, io.readBytes(file));
    if (XEN_SETUP.test(firstContentLine(text))) {
      out.push(readXenSetup(text, file));
      continue;
    }
    const kind = inputKind(text);
    if (kind === 'xml') {
      pushAll(out, readNetworks(text, file));
      continue;
    }
    if (!out.includes('xen-host')) out.push('xen-host');
    if (kind === 'xend') {
      if (xend) throw new UsageError(`${command}: two Xen host configurations (${xend.file} and ${file}); give one xend-config.sxp`);
      xend = { text, file };
    } else {
      const domid = options.domids?.[domains.length];
      domains.push({ text, file, ...(domid === undefined ? {} : { domid }) });
    }
  }
  if (options.domids && options.domids.length !== domains.length) throw new UsageError(`${command}: --domids gives ${options.domids.length} domain id(s) for ${domains.length} domU configuration(s)`);
  return out.map((n) => (n === 'xen-host' ? readXenNetwork(xend, domains) : n));
}

/** Parses a dump, with a progress line on a terminal while a large one is read. */
export function readDump(path: string, io: Io): Dump {
  return parseDumpBytes(io.readBytes(path), path, io);
}

/** Parses a dump already read, with the progress line. */
export function parseDumpBytes(bytes: Uint8Array, path: string, io: Io): Dump {
  const progress = progressFor(io);
  const name = path === '-' ? 'standard input' : path;
  try {
    return parseSaveBytes(bytes, { file: path, onProgress: (_lines, rules) => progress.update(`parsing ${name}: ${count(rules)} rules…`) });
  } finally {
    progress.done();
  }
}
