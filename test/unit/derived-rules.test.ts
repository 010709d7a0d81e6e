// A rule the engine derives from a command line is the rule iptables-restore's reading of the same
// line makes. The engine reads the first line of each shape whole and gives the next lines of that
// shape (another network's bridge and subnet) the same rule with another head (withHead): every
// derived rule here is checked against a whole reading of its own line.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { compile } from '../../src/engine/compile.js';
import { ruleFromOptions } from '../../src/engine/iptables.js';
import { LEGACY_BOUNDARIES } from '../../src/engine/libvirt-legacy.js';
import type { Command, Program } from '../../src/engine/program.js';
import { InputError, UsageError } from '../../src/model/errors.js';
import { BUILTIN_CHAINS, type Family, type Rule } from '../../src/model/dump.js';
import type { Network } from '../../src/model/network.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { describeCorpus, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';

/** The rule `-A chain words` makes in a restore file of its own, or the error iptables-restore's reading gives. */
function wholeReading(table: string, chain: string, words: readonly string[], family: Family): Rule | string {
  const builtin = (BUILTIN_CHAINS[table] ?? []).includes(chain);
  const quoted = words.map((w) => (/^[^\s"']+$/.test(w) ? w : `"${w.replace(/(["\\])/g, '\\$1')}"`));
  const text = `*${table}\n${builtin ? '' : `:${chain} - [0:0]\n`}-A ${chain} ${quoted.join(' ')}\nCOMMIT\n`;
  try {
    const dump = parseSave(text, { file: '<derived rule>', fragment: true, family });
    return dump.tables[0]!.chains.find((c) => c.name === chain)!.rules[0]!;
  } catch (e) {
    return (e as Error).message;
  }
}

function derived(table: string, chain: string, words: readonly string[], family: Family): Rule | string {
  try {
    return ruleFromOptions(table, chain, words, family);
  } catch (e) {
    return (e as Error).message;
  }
}

/** The words after `--insert CHAIN` / `--append CHAIN` of a command's argv. */
function optionsOf(c: Command): { table: string; chain: string; words: string[] } | null {
  const e = c.effect;
  if (e.kind !== 'insert' && e.kind !== 'append') return null;
  const at = c.argv.findIndex((w) => w === '--insert' || w === '--append' || w === '-I' || w === '-A');
  if (at < 0 || c.argv[at + 1] !== e.chain) return null;
  return { table: e.table, chain: e.chain, words: c.argv.slice(at + 2) };
}

/** Every era the engine writes iptables rules for: the newest, and each legacy boundary. */
const ERAS: ReadonlyArray<{ flavor: 'libvirt' | 'libvirt-legacy'; libvirtVersion?: string }> = [
  { flavor: 'libvirt' },
  { flavor: 'libvirt-legacy', libvirtVersion: '0.6.3' },
  ...[...new Set(LEGACY_BOUNDARIES.map((b) => b.since))].map((v) => ({
    flavor: 'libvirt-legacy' as const,
    libvirtVersion: v,
  })),
];

/** Each network compiled alone in each era that takes it (an era refuses what its libvirt did not read). */
function checkNetworks(networks: readonly Network[]): number {
  let compared = 0;
  for (const era of ERAS)
    for (const network of networks) {
      let program: Program;
      try {
        program = compile([network], era);
      } catch (e) {
        if (e instanceof InputError || e instanceof UsageError) continue;
        throw e;
      }
      compared += compareRules(program);
    }
  return compared;
}

/** Compares each rule a program adds with the whole reading of its line; how many it compared. */
function compareRules(program: Program): number {
  let compared = 0;
  for (const c of program.commands) {
    const line = optionsOf(c);
    if (!line) continue;
    const e = c.effect as Extract<Command['effect'], { rule: Rule }>;
    expect(e.rule, `${program.era}: ${c.argv.join(' ')}`).toEqual(
      wholeReading(line.table, line.chain, line.words, e.family),
    );
    compared++;
  }
  return compared;
}

/** Networks alike but for their name, bridge and subnets: lines of the same shape, one per network. */
function alike(count: number): Network[] {
  const xml = Array.from({ length: count }, (_, i) => {
    const net = `10.${20 + (i >> 8)}.${i & 255}`;
    const modes = ["<forward mode='nat'/>", "<forward mode='route'/>", "<forward mode='nat' dev='eth1'/>", ''];
    return (
      `<network><name>n${i}</name>${modes[i % modes.length]}<bridge name='vb${i}'/>` +
      `<ip address='${net}.1' prefix='24'><dhcp><range start='${net}.2' end='${net}.9'/></dhcp></ip>` +
      `<ip family='ipv6' address='fd00:${i.toString(16)}::1' prefix='64'/></network>`
    );
  });
  return xml.flatMap((x, i) => readNetworks(x, `n${i}.xml`));
}

describe('derived rules equal the whole reading of their line', () => {
  it('networks alike but for bridge and subnets, in every era', () => {
    expect(checkNetworks(alike(24))).toBeGreaterThan(1000);
  });

  it("the repository's own network definitions", () => {
    const dir = join(REPO_CORPUS, 'seed-lab');
    const networks = readdirSync(dir)
      .filter((f) => f.endsWith('.xml'))
      .flatMap((f) => readNetworks(readFileSync(join(dir, f), 'utf8'), f));
    expect(networks.length).toBeGreaterThan(1);
    expect(checkNetworks(networks)).toBeGreaterThan(20);
  });

  // Each pair: a line read first (its shape is then known), then a line of the same shape with head values that
  // read otherwise (a list, the other family, a name iptables refuses) or with a word that only looks like a head
  // option's value.
  it.each([
    ['plain', ['-i', 'virbr0', '-j', 'ACCEPT'], ['-i', 'virbr1', '-j', 'ACCEPT']],
    ['wildcard name', ['-i', 'virbr0', '-j', 'ACCEPT'], ['-i', 'vnet+', '-j', 'ACCEPT']],
    ['negated', ['!', '-o', 'virbr0', '-j', 'ACCEPT'], ['!', '-o', 'virbr9', '-j', 'ACCEPT']],
    ['name too long', ['-i', 'virbr0', '-j', 'ACCEPT'], ['-i', 'abcdefghijklmnop', '-j', 'ACCEPT']],
    ['host bits', ['-s', '10.0.0.0/24', '-j', 'RETURN'], ['-s', '10.0.1.7/24', '-j', 'RETURN']],
    ['netmask', ['-s', '10.0.0.0/24', '-j', 'RETURN'], ['-s', '10.0.1.0/255.255.255.0', '-j', 'RETURN']],
    ['address list', ['-d', '10.0.0.1', '-j', 'RETURN'], ['-d', '10.0.0.1,10.0.0.2', '-j', 'RETURN']],
    ['other family', ['-s', '10.0.0.0/24', '-j', 'RETURN'], ['-s', 'fd00::/64', '-j', 'RETURN']],
    ['bad address', ['-s', '10.0.0.0/24', '-j', 'RETURN'], ['-s', '10.0.0.256', '-j', 'RETURN']],
    [
      'long forms',
      ['--source', '10.0.0.0/24', '--in-interface', 'a'],
      ['--source', '10.9.0.0/16', '--in-interface', 'b'],
    ],
    [
      'a comment that looks like an option',
      ['-m', 'comment', '--comment', 'x', '-s', '10.0.0.1', '-j', 'ACCEPT'],
      ['-m', 'comment', '--comment', '-s', '-s', '10.0.0.1', '-j', 'ACCEPT'],
    ],
    ['given twice', ['-s', '10.0.0.1', '-j', 'ACCEPT'], ['-s', '10.0.0.1', '-s', '10.0.0.2', '-j', 'ACCEPT']],
    ['-o where packets have none', ['-o', 'virbr0', '-j', 'ACCEPT'], ['-o', 'virbr1', '-j', 'ACCEPT']],
  ] as const)('%s', (name, first, second) => {
    const chain = name === '-o where packets have none' ? 'INPUT' : 'FORWARD';
    for (const words of [first, second]) {
      expect(derived('filter', chain, words, 'ipv4'), words.join(' ')).toEqual(
        wholeReading('filter', chain, words, 'ipv4'),
      );
    }
  });
});

/** The networks of a definition; none for one libvirt refuses (the test vectors hold some on purpose). */
function readable(text: string, file: string): Network[] {
  try {
    return readNetworks(text, file);
  } catch {
    return [];
  }
}

describeCorpus("libvirt's own test networks (networkxml2firewall, networkxml2xml)", () => {
  it('every derived rule of every era', () => {
    const networks = ['firewall', 'xml'].flatMap((sub) => {
      const dir = join(SHARED_CORPUS, 'libvirt', sub);
      return readdirSync(dir)
        .filter((f) => f.endsWith('.xml'))
        .flatMap((f) => readable(readFileSync(join(dir, f), 'utf8'), f));
    });
    expect(networks.length).toBeGreaterThan(40);
    expect(checkNetworks(networks)).toBeGreaterThan(200);
  });
});
