// xt_recent as the kernel runs it (net/netfilter/xt_recent.c, recent_mt): per `--name` list, one
// entry per address with its hit times. What a host's lists held before the traced packets is not
// in any dump, so a check is decided only by what the trace itself added (a lower bound on the
// hits) or removed, or when the user assumes the lists start empty; otherwise it is undecided.

import { maskOf, parseHost, type IpFamily } from '../model/cidr.js';
import type { Match } from '../model/dump.js';
import { undecided, type MatchCtx, type RecentOverlay } from './packet.js';

export type RecentMode = 'set' | 'rcheck' | 'update' | 'remove';

export interface RecentSpec {
  readonly name: string;
  readonly mode: RecentMode;
  /** `! --rcheck`: the match is the check's opposite. */
  readonly negated: boolean;
  /** The list is keyed by the destination (`--rdest`) instead of the source. */
  readonly rdest: boolean;
  readonly mask: bigint;
  readonly hitcount: number;
  /** `--rttl`: the hits must carry this packet's TTL (virtables does not follow TTLs). */
  readonly rttl: boolean;
  /** The match as written, for messages. */
  readonly text: string;
}

const MODES: Readonly<Record<string, RecentMode>> = {
  '--set': 'set',
  '--rcheck': 'rcheck',
  '--update': 'update',
  '--remove': 'remove',
};

/** The match's options, or why virtables cannot follow them. */
export function parseRecent(m: Match, family: IpFamily): RecentSpec | { readonly why: string } {
  const text = `-m recent ${m.options.map((o) => `${o.negated ? '! ' : ''}${o.name}${o.args.map((a) => ` ${a.value}`).join('')}`).join(' ')}`;
  let name = 'DEFAULT';
  let mode: RecentMode | null = null;
  let negated = false;
  let rdest = false;
  let mask = maskOf(family, family === 4 ? 32 : 128);
  let hitcount = 0;
  let rttl = false;
  for (const o of m.options) {
    const value = o.args[0]?.value ?? '';
    const m2 = MODES[o.name];
    if (m2) {
      mode = m2;
      negated = o.negated;
      continue;
    }
    switch (o.name) {
      case '--name':
        name = value;
        break;
      case '--rsource':
        rdest = false;
        break;
      case '--rdest':
        rdest = true;
        break;
      case '--mask': {
        const h = parseHost(value);
        if (!h || h.family !== family) return { why: `${text}: --mask ${value} is not an IPv${family} address` };
        mask = h.value;
        break;
      }
      case '--hitcount':
        if (!/^\d{1,5}$/.test(value)) return { why: `${text}: --hitcount ${value}` };
        hitcount = Number(value);
        break;
      // Hits a trace adds are all "now": within any --seconds window, and --reap removes none of them.
      case '--seconds':
      case '--reap':
        break;
      case '--rttl':
        rttl = true;
        break;
      default:
        return { why: `${text}: ${o.name} (virtables does not follow this recent option)` };
    }
  }
  if (mode === null) return { why: `${text}: no --set, --rcheck, --update or --remove` };
  return { name, mode, negated, rdest, mask, hitcount, rttl, text };
}

function overlay(c: MatchCtx, key: string): RecentOverlay {
  let o = c.memory.recent.get(key);
  if (!o) c.memory.recent.set(key, (o = { hits: new Map(), removed: new Set() }));
  return o;
}

/** The match, evaluated against the trace's own changes; `emptyAtStart`: the lists held nothing before. */
export function recentTest(spec: RecentSpec, emptyAtStart: boolean): (c: MatchCtx) => boolean {
  const needed = Math.max(spec.hitcount, 1);
  const assume = " (--assume 'recent empty' if the host's lists start empty)";
  return (c) => {
    const key = `${spec.name}/${c.family}`;
    const addr = (spec.rdest ? c.dst : c.src) & spec.mask;
    const o = c.memory.recent.get(key);
    const added = o?.hits.get(addr) ?? 0;
    // Before this trace's first change the entry's hits are unknown, unless the lists started empty
    // or the trace removed the entry (then exactly what it added since).
    const exact = emptyAtStart || (o?.removed.has(addr) ?? false);
    switch (spec.mode) {
      case 'set': {
        const w = overlay(c, key);
        w.hits.set(addr, added + 1);
        return !spec.negated;
      }
      case 'remove': {
        const exists = added > 0 ? true : exact ? false : null;
        // The entry is gone afterwards whatever the match says (removed first: undecided may throw).
        const w = overlay(c, key);
        w.hits.delete(addr);
        w.removed.add(addr);
        return exists === null
          ? undecided(
              c,
              `${spec.text}: whether list ${spec.name} holds this address before the trace is not known${assume}`,
            )
          : exists !== spec.negated;
      }
      case 'rcheck':
      case 'update': {
        // With --rttl the hits this trace added may carry another TTL: only "none at all" is known.
        const enough = spec.rttl
          ? exact && added === 0
            ? false
            : null
          : added >= needed
            ? true
            : exact
              ? false
              : null;
        const what = spec.hitcount > 0 ? `${spec.hitcount} hits` : 'an entry';
        const matched =
          enough === null
            ? undecided(
                c,
                `${spec.text}: whether list ${spec.name} holds ${what} for this address is not known${assume}`,
              )
            : enough !== spec.negated;
        // --update stamps an existing entry when the match holds (a negated one: when the check failed).
        if (spec.mode === 'update' && matched && (added > 0 || !spec.negated))
          overlay(c, key).hits.set(addr, added + 1);
        return matched;
      }
    }
  };
}
