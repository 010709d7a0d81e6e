// Rule listings as firewall input: `iptables -S` and `iptables -L -n -v` output (what people
// paste, and what the lab reads) turned into the dump they show, for parse, explain, audit and
// diff. A listing shows only the tables it lists (`iptables -S` is filter's unless `-t` says
// otherwise): the dump says which, so what is not shown is not taken for absent. What a listing
// cannot tell — interfaces under `iptables -L` without `-v` — is refused with what to run instead.

import { parseListing, type Listing } from '../../grammar/listing.js';
import { BUILTIN_CHAINS, type Chain, type Dump, type Table } from '../model/dump.js';
import { InputError } from '../model/errors.js';

function refuse(listing: Listing, line: number, message: string): never {
  throw new InputError(listing.file, line, 1, message);
}

/** The dump a listing shows; an error saying what to give instead when it cannot show one. */
export function dumpFromListing(text: string, path: string): Dump {
  const listing = parseListing(text, path);
  const first = listing.operations[0];
  if (listing.refused.length > 0) throw new InputError(path, 1, 1, listing.refused[0]!.replace(/^[^:]+:\d+:\d+: /, ''));
  if (listing.formats.has('commands') || listing.formats.has('diff') || listing.skipped.length > 0) {
    refuse(
      listing,
      first?.line ?? 1,
      "these are iptables commands (or a diff), not what the firewall holds: give iptables-save output (or 'iptables -S' / 'iptables -L -n -v')",
    );
  }
  const blind = listing.operations.find((o) => 'interfacesShown' in o && !o.interfacesShown);
  if (blind)
    refuse(
      listing,
      blind.line,
      "this 'iptables -L -n' listing shows no interfaces (-i/-o), so its rules cannot be judged: list with 'iptables -L -n -v', or 'iptables -S', or give iptables-save output",
    );
  const tables = new Map<string, Table>();
  const tableOf = (name: string): Table => {
    let t = tables.get(name);
    if (!t) {
      t = {
        name,
        pos: { line: 0, col: 0 },
        chains: (BUILTIN_CHAINS[name] ?? []).map((c): Chain => ({
          name: c,
          builtin: true,
          policy: 'ACCEPT',
          counters: null,
          pos: null,
          rules: [],
        })),
      };
      tables.set(name, t);
    }
    return t;
  };
  const chainOf = (t: Table, name: string, line: number): Chain => {
    let c = t.chains.find((x) => x.name === name);
    if (!c) {
      c = { name, builtin: false, policy: null, counters: null, pos: { line, col: 1 }, rules: [] };
      t.chains.push(c);
    }
    return c;
  };
  for (const o of listing.operations) {
    const t = tableOf(o.table);
    switch (o.kind) {
      case 'policy':
        chainOf(t, o.chain, o.line).policy = o.policy;
        break;
      case 'new-chain':
        chainOf(t, o.chain, o.line);
        break;
      case 'append':
      case 'insert':
        chainOf(t, o.chain, o.line).rules.push(o.rule);
        break;
      default:
        refuse(listing, o.line, 'a listing holds rules and chains only');
    }
  }
  const ipv6 =
    /(?:^|[#$] ?)(?:sudo )?ip6tables/m.test(text) ||
    [...tables.values()].some((t) =>
      t.chains.some((c) => c.rules.some((r) => r.source?.family === 6 || r.destination?.family === 6)),
    );
  const format = listing.formats.has('list') ? 'iptables -L' : 'iptables -S';
  return {
    file: path,
    family: ipv6 ? 'ipv6' : 'ipv4',
    tables: [...tables.values()],
    comments: [],
    listing: { format, tables: [...tables.keys()] },
  };
}

/** For people: `FILE is an iptables -S listing: it shows the filter and nat tables (no others are judged)`. */
export function listingNote(dump: Dump): string | null {
  if (!dump.listing) return null;
  const name = dump.file === '-' ? 'standard input' : dump.file;
  const t = dump.listing.tables;
  const shown =
    t.length === 0
      ? 'no table'
      : `the ${t.length === 1 ? t[0] : `${t.slice(0, -1).join(', ')} and ${t.at(-1)}`} table${t.length === 1 ? '' : 's'}`;
  return `${name} is an ${dump.listing.format} listing, read as the dump it shows: ${shown} (what it does not list is not judged: iptables-save shows every table)`;
}
