// Rule listings as answers hold them: real `iptables -S`, `iptables -L -n [-v]` output
// (iptables 1.8.9, corpus/listings, printed from the seed lab's host-only+natted dump) read
// back to the same rules as the dump, in the same order; iptables commands become the
// operations iptables would run; unreadable lines are refused with their position.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseListing, listedRules, showsInterfaces, type Listing } from '../../grammar/listing.js';
import { ruleKey } from '../../src/diff/diff.js';
import type { Dump, Rule } from '../../src/model/dump.js';
import { InputError } from '../../src/model/errors.js';
import { formatRule } from '../../src/write/save.js';
import { REPO_CORPUS } from '../helpers/env.js';
import { parseFile, read } from '../helpers/files.js';

const LISTINGS = join(REPO_CORPUS, 'listings');
const DUMP = parseFile(join(REPO_CORPUS, 'seed-lab', 'expected-0.6.3', 'host-only+natted.save'));

const key = (rule: Rule, interfaces: boolean): string =>
  ruleKey(formatRule(interfaces ? rule : { ...rule, inInterface: null, outInterface: null }));

function fromDump(dump: Dump, interfaces: boolean): string[] {
  return dump.tables
    .flatMap((t) => t.chains.flatMap((c) => c.rules.map((r) => `${t.name} ${key(r, interfaces)}`)))
    .sort();
}

function chainsOf(dump: Dump, interfaces: boolean): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const t of dump.tables)
    for (const c of t.chains)
      if (c.rules.length > 0) out[`${t.name} ${c.name}`] = c.rules.map((r) => key(r, interfaces));
  return out;
}

function listingChains(l: Listing, interfaces: boolean): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const o of listedRules(l)) (out[`${o.table} ${o.chain}`] ??= []).push(key(o.rule, interfaces));
  return out;
}

describe('rule listings', () => {
  for (const [file, interfaces, format] of [
    ['host-only+natted.S.txt', true, 'list-rules'],
    ['host-only+natted.Lv.txt', true, 'list'],
    ['host-only+natted.L.txt', false, 'list'],
  ] as const) {
    it(`${file} holds the dump's rules, chain by chain, in order${interfaces ? '' : ' (without interfaces: -L without -v shows none)'}`, () => {
      const listing = parseListing(read(join(LISTINGS, file)), file);
      expect([...listing.formats]).toEqual([format]);
      expect(showsInterfaces(listing)).toBe(interfaces);
      expect(listingChains(listing, interfaces)).toEqual(chainsOf(DUMP, interfaces));
      expect(
        listedRules(listing)
          .map((o) => `${o.table} ${key(o.rule, interfaces)}`)
          .sort(),
      ).toEqual(fromDump(DUMP, interfaces));
    });
  }

  it('-L reads the policies from the chain headings and the tables from the prompt lines', () => {
    const listing = parseListing(read(join(LISTINGS, 'host-only+natted.L.txt')), 'L');
    const policies = listing.operations.filter((o) => o.kind === 'policy').map((o) => `${o.table} ${o.chain}`);
    expect(policies).toEqual([
      'filter INPUT',
      'filter FORWARD',
      'filter OUTPUT',
      'nat PREROUTING',
      'nat INPUT',
      'nat OUTPUT',
      'nat POSTROUTING',
    ]);
  });

  it('iptables commands become operations: -I with its position, -D by rule or number, -P, -N, -t anywhere, continued lines', () => {
    const listing = parseListing(read(join(LISTINGS, 'commands.txt')), 'commands.txt');
    const ops = listing.operations.map((o) => [
      o.kind,
      o.table,
      o.chain,
      'rule' in o ? formatRule(o.rule) : 'policy' in o ? o.policy : 'position' in o ? o.position : null,
      'position' in o && 'rule' in o ? o.position : null,
      o.line,
    ]);
    expect(ops).toEqual([
      ['insert', 'filter', 'FORWARD', '-A FORWARD -d 192.168.100.0/24 -i xapi1 -o xenbr0 -j ACCEPT', null, 2],
      ['insert', 'filter', 'FORWARD', '-A FORWARD -d 192.168.100.0/24 -i xenbr0 -o xapi1 -j ACCEPT', null, 3],
      [
        'append',
        'nat',
        'PREROUTING',
        '-A PREROUTING -i xenbr0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.100.11:8080',
        null,
        4,
      ],
      ['append', 'nat', 'POSTROUTING', '-A POSTROUTING -o xenbr0 -j SNAT --to-source 198.51.100.10', null, 6],
      [
        'insert',
        'filter',
        'INPUT',
        '-A INPUT -p udp -m udp --dport 53 -j REJECT --reject-with icmp-port-unreachable',
        2,
        8,
      ],
      ['delete', 'filter', 'INPUT', '-A INPUT -i lo -j ACCEPT', null, 9],
      ['delete-at', 'filter', 'INPUT', 1, null, 10],
      ['policy', 'filter', 'FORWARD', 'DROP', null, 11],
      ['new-chain', 'filter', 'LOGDROP', null, null, 12],
    ]);
  });

  for (const name of readdirSync(join(LISTINGS, 'bad')).sort()) {
    it(`refuses bad/${name} with its position`, () => {
      const text = read(join(LISTINGS, 'bad', name));
      const want = /^# error: (.*)$/m.exec(text)![1]!;
      // An iptables command iptables refuses is kept as refused (the shell goes on with the next);
      // a listing line that cannot be read stops the reading.
      if (/^iptables /m.test(text)) {
        expect(parseListing(text, name).refused).toEqual([`${name}:${want}`]);
        return;
      }
      let error: unknown;
      try {
        parseListing(text, name);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).message).toBe(`${name}:${want}`);
    });
  }
});
