// The firewall(s) a sheet's assertions are checked on: a dump from the evidence or the sheet,
// the rules the engine derives for starting networks on the sheet's `before` dump, and those
// with the answer's commands run on top, the way iptables would run them (an -I goes to the
// top, a -D of a rule that is not there is refused). `in any order` gives one firewall per
// start order: legacy libvirt's rules depend on it.

import { iptablesDumpIn, parseDumpText } from '../input/read.js';
import { decodeText } from '../model/text.js';
import type { FirewallSource, Named } from '../../grammar/expect.js';
import { applyProgram, emptyDump, emptyHostState } from '../engine/apply.js';
import { compile } from '../engine/compile.js';
import type { Program } from '../engine/program.js';
import type { Dump } from '../model/dump.js';
import { UsageError } from '../model/errors.js';
import type { Evidence } from './evidence.js';
import type { ReadBytes } from '../input/disk.js';
import { applyOperations, dumpOfListing, listingIsState, skippedNotes } from './operations.js';
import type { World } from './sheet.js';

export interface Firewall {
  readonly dump: Dump;
  /**
   * Where it came from, for messages: `host.save`, or `clean-host.save, then natted and natted2 started, then
   * rules.txt`.
   */
  readonly describe: string;
  /** Commands of the answer iptables would refuse, said as iptables would; lines of a script not applied. */
  readonly refused: string[];
}

export type Firewalls =
  { readonly ok: true; readonly variants: Firewall[] } | { readonly ok: false; readonly why: string };

export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((x, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((p) => [x, ...p]));
}

export function namesText(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} then ${names[names.length - 1]}`;
}

/** The host's dump after starting `names` in this order on the sheet's `before` (the engine's rules). */
export function startNetworks(
  world: World,
  names: readonly string[],
): { dump: Dump; describe: string; before: Dump; program: Program } {
  const networks = names.map((n) => {
    const d = world.networks.find((x) => x.name === n);
    if (!d) throw new UsageError(`check: network '${n}' is not defined`);
    return d.network;
  });
  const before = world.before?.ok ? world.before.value : emptyDump('ipv4');
  const base = { ...emptyHostState(), ipv4: before };
  const program = compile(networks, {
    flavor: world.era.flavor,
    ...(world.era.version && !world.era.flavor.startsWith('xen') ? { libvirtVersion: world.era.version } : {}),
    ...(world.era.version && world.era.flavor.startsWith('xen') ? { xenVersion: world.era.version } : {}),
    base,
  });
  const dump = applyProgram(program, base).ipv4;
  const from = world.before?.ok ? world.before.file : 'an empty firewall';
  return {
    dump: { ...dump, family: 'ipv4' },
    describe: `${from} after starting ${namesText(names)} (${world.era.label})`,
    before,
    program,
  };
}

function orders(list: readonly Named[], anyOrder: boolean): string[][] {
  const names = list.map((n) => n.name);
  return anyOrder ? permutations(names) : [names];
}

function missingNetworks(world: World, list: readonly Named[]): string | null {
  const gone = list.filter((n) => !world.networks.some((d) => d.name === n.name));
  return gone.length > 0
    ? `network${gone.length > 1 ? 's' : ''} ${gone.map((n) => `'${n.name}'`).join(', ')} not defined`
    : null;
}

function materialize(
  world: World,
  source: FirewallSource,
  evidence: Evidence,
  read: ReadBytes,
  guest: string | null,
): Firewalls {
  switch (source.kind) {
    case 'file': {
      const path = world.path(source.file);
      return { ok: true, variants: [{ dump: readIptablesDump(read(path), path), describe: path, refused: [] }] };
    }
    case 'answer-dump': {
      const f = guest ? evidence.guestDump(guest, source.file) : evidence.hostDump(source.file);
      if (!f.ok) return { ok: false, why: f.why };
      if (!source.commands) return { ok: true, variants: [{ dump: f.value, describe: f.file, refused: [] }] };
      const listing = evidence.listing(source.commands.file);
      if (!listing.ok) return { ok: false, why: listing.why };
      const applied = applyOperations(f.value, listing.value);
      return {
        ok: true,
        variants: [
          {
            dump: applied.dump,
            describe: `${f.file}, then ${listing.file}`,
            refused: [...applied.refused, ...skippedNotes(listing.value)],
          },
        ],
      };
    }
    case 'answer-commands': {
      if (guest)
        return { ok: false, why: `${guest}'s firewall is its own dump ("the answer's dump"), not the host's networks` };
      const listing = evidence.listing(source.file);
      if (!listing.ok) return { ok: false, why: listing.why };
      // A whole listing (iptables-save, -S or -L of everything) is the host's state, not commands.
      if (listingIsState(listing.value)) {
        const state = dumpOfListing(listing.value);
        const partial = listing.value.operations.some((o) => 'interfacesShown' in o && !o.interfacesShown)
          ? ' (iptables -L without -v: no interfaces shown, each rule taken for any interface)'
          : '';
        return {
          ok: true,
          variants: [
            {
              dump: state.dump,
              describe: `${listing.file} (the host's state as listed)${partial}`,
              refused: state.refused,
            },
          ],
        };
      }
      const gone = missingNetworks(world, source.networks);
      if (gone) return { ok: false, why: gone };
      return {
        ok: true,
        variants: orders(source.networks, source.anyOrder).map((names) => {
          const started = startNetworks(world, names);
          const applied = applyOperations(started.dump, listing.value);
          return {
            dump: applied.dump,
            describe: `${started.describe}, then ${listing.file}`,
            refused: [...applied.refused, ...skippedNotes(listing.value)],
          };
        }),
      };
    }
    case 'started': {
      if (guest) return { ok: false, why: `${guest}'s firewall is its own dump, not started networks` };
      const gone = missingNetworks(world, source.networks);
      if (gone) return { ok: false, why: gone };
      return {
        ok: true,
        variants: orders(source.networks, source.anyOrder).map((names) => {
          const started = startNetworks(world, names);
          return { dump: started.dump, describe: started.describe, refused: [] };
        }),
      };
    }
  }
}

/** The first of the declared sources that the evidence provides (default: the evidence's dump). */
export function firewallsOf(world: World, evidence: Evidence, read: ReadBytes, guest: string | null = null): Firewalls {
  const declared = guest ? world.guestFirewalls.get(guest) : world.firewall;
  const sources: FirewallSource[] = declared?.sources ?? [
    { kind: 'answer-dump', file: null, commands: null, at: { line: 0, col: 0 } },
  ];
  const why: string[] = [];
  for (const s of sources) {
    const f = materialize(world, s, evidence, read, guest);
    if (f.ok) return f;
    why.push(f.why);
  }
  return { ok: false, why: why.join('; and ') };
}

/** A lab's dump file: iptables-save by contract; nft text or an empty file is named, not misread. */
function readIptablesDump(bytes: Uint8Array, file: string): Dump {
  return iptablesDumpIn('lab', parseDumpText(decodeText(file, bytes), file, { command: 'lab' }));
}
