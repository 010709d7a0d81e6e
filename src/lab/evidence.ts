// What a sheet is checked against: the firewall dump(s), network definitions and rule
// listings the checker was given — on the command line (`virtables check --dump … --net …`)
// or in a student's answer directory (`virtables lab check LAB --answer DIR`), where files are
// found by name: *.xml networks, host.save, before.save, GUEST.save, rules.txt.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { iptablesDumpIn, parseDumpText } from '../input/read.js';
import { parseListing, type Listing } from '../../grammar/listing.js';
import type { Dump } from '../model/dump.js';
import type { AnyNetwork } from '../model/network.js';
import { decodeText } from '../model/text.js';
import { InputError } from '../model/errors.js';
import { readNetworkFiles } from '../input/networks.js';
import type { ReadBytes } from '../input/disk.js';
import { dumpOfListing, listingIsState } from './operations.js';

/** A piece of evidence, or why it is not there (said to the student or the admin). */
export type Found<T> =
  { readonly ok: true; readonly value: T; readonly file: string } | { readonly ok: false; readonly why: string };

export interface Evidence {
  /** How to name where the evidence came from in messages ("the answer in answers/4", "the command line"). */
  readonly origin: string;
  /** Networks given, by name. */
  readonly networks: ReadonlyMap<string, AnyNetwork>;
  /** The host's firewall after the change. */
  hostDump(file: string | null): Found<Dump>;
  /** The host's firewall before it (for "the added rules"). */
  beforeDump(): Found<Dump> | null;
  /** The answer's rule listing or commands. */
  listing(file: string | null): Found<Listing>;
  /** A guest's own firewall (a guest that routes). */
  guestDump(guest: string, file: string | null): Found<Dump>;
  /** A file of the answer, for `setup from the answer's "FILE"`. */
  text(file: string): Found<string>;
}

function found<T>(file: string, read: () => T): Found<T> {
  return { ok: true, value: read(), file };
}

/** Reads the answer's network files (as `--net` reads them), keyed by their names. */
function networksFrom(files: readonly string[], read: ReadBytes): Map<string, AnyNetwork> {
  return new Map(readNetworkFiles(files, read).map((n) => [n.name, n]));
}

/**
 * A dump file of an answer: iptables-save, or — what students paste there too — an
 * `iptables -S` or `iptables -L -n -v` listing of the whole host, read as its state.
 */
function dumpOrListing(file: string, read: ReadBytes): Dump {
  const bytes = read(file);
  try {
    return readIptablesDump(bytes, file);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    let listing: Listing;
    try {
      listing = parseListing(decodeText(file, bytes), file);
    } catch {
      throw e;
    }
    // A broken iptables-save stays an error; only a listing of another kind is read as the state.
    if (listing.formats.has('save') || !listingIsState(listing)) throw e;
    return dumpOfListing(listing).dump;
  }
}

/** The files a student hands in, found by their conventional names. */
export function answerEvidence(dir: string, read: ReadBytes): Evidence {
  const files = existsSync(dir) && statSync(dir).isDirectory() ? readdirSync(dir).sort() : [];
  const path = (f: string): string => join(dir, f);
  const has = (f: string): boolean => files.includes(f);
  const networks = networksFrom(files.filter((f) => f.endsWith('.xml')).map(path), read);
  const origin = `the answer in ${dir}`;
  const dump = (f: string): Dump => dumpOrListing(path(f), read);
  return {
    origin,
    networks,
    hostDump(file) {
      const name = file ?? (has('host.save') ? 'host.save' : has('after.save') ? 'after.save' : null);
      if (name && has(name)) return found(path(name), () => dump(name));
      if (file) return { ok: false, why: `${origin} has no ${file}` };
      return { ok: false, why: `${origin} has no firewall dump (host.save: what iptables-save prints on the host)` };
    },
    beforeDump() {
      return has('before.save') ? found(path('before.save'), () => dump('before.save')) : null;
    },
    listing(file) {
      const name = file ?? ['rules.txt', 'commands.txt', 'answer.txt'].find(has) ?? null;
      if (name && has(name))
        return found(path(name), () => parseListing(decodeText(path(name), read(path(name))), path(name)));
      return { ok: false, why: `${origin} has no ${file ?? 'rules.txt (the rules or commands of the answer)'}` };
    },
    guestDump(guest, file) {
      const name = file ?? `${guest}.save`;
      if (has(name)) return found(path(name), () => dump(name));
      return { ok: false, why: `${origin} has no ${name} (what iptables-save prints on ${guest})` };
    },
    text(file) {
      if (has(file)) return found(path(file), () => decodeText(path(file), read(path(file))));
      return { ok: false, why: `${origin} has no ${file}` };
    },
  };
}

export interface GivenFiles {
  readonly dump: string | null;
  readonly before: string | null;
  readonly rules: string | null;
  /** `GUEST=FILE` */
  readonly guestDumps: ReadonlyMap<string, string>;
  readonly networks: readonly AnyNetwork[];
}

/** What `virtables check` was given on its command line. */
export function commandLineEvidence(given: GivenFiles, read: ReadBytes): Evidence {
  const origin = 'the command line';
  const networks = new Map(given.networks.map((n) => [n.name, n] as const));
  const dump = (f: string): Dump => readIptablesDump(read(f), f);
  return {
    origin,
    networks,
    hostDump(file) {
      if (given.dump) return found(given.dump, () => dump(given.dump!));
      return { ok: false, why: `no firewall to check: give --dump${file ? ` (the policy expects ${file})` : ''}` };
    },
    beforeDump() {
      return given.before ? found(given.before, () => dump(given.before!)) : null;
    },
    listing() {
      if (given.rules)
        return found(given.rules, () => parseListing(decodeText(given.rules!, read(given.rules!)), given.rules!));
      return { ok: false, why: 'no rule listing: give --rules FILE' };
    },
    guestDump(guest) {
      const f = given.guestDumps.get(guest);
      if (f) return found(f, () => dump(f));
      return { ok: false, why: `no firewall for ${guest}: give --guest-dump ${guest}=FILE` };
    },
    text(file) {
      return { ok: false, why: `${basename(file)} comes from an answer directory (give --answer DIR)` };
    },
  };
}

/** A lab's dump file: iptables-save by contract; nft text or an empty file is named, not misread. */
function readIptablesDump(bytes: Uint8Array, file: string): Dump {
  return iptablesDumpIn('lab', parseDumpText(decodeText(file, bytes), file, { command: 'lab' }));
}
