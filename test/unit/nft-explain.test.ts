// explain and diff of nft rulesets on real captures (libvirt 11.3's nftables backend,
// ../shared/corpus/nft-real) and on corpus/nft: every rule of libvirt's table gets the purpose and
// the sentence the engine writes for the same rule under --flavor libvirt-nft; firewalld's and
// Docker's tables are theirs; a diff compares rules by content, never by handle or counters.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { parseNftJson } from '../../grammar/nft-json.js';
import { parseNftText } from '../../grammar/nft.js';
import { networksFromDefinitions } from '../../src/explain/attribute.js';
import { diffHosts } from '../../src/diff/host-report.js';
import { explainHost, hostNetworks } from '../../src/explain/host-report.js';
import { nftRuleKey } from '../../src/diff/nft-diff.js';
import { compile } from '../../src/engine/compile.js';
import { applyProgram, emptyHostState } from '../../src/engine/apply.js';
import { nftModelOf, nftRuleOf } from '../../src/audit/nft-compiled.js';
import { assembleHost, type Host } from '../../src/model/host.js';
import type { NftRuleset } from '../../src/model/nft.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { describeCorpus, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

const NFT_REAL = join(SHARED_CORPUS, 'nft-real');

const nftHost = (r: NftRuleset): Host =>
  assembleHost(r.file, [{ file: r.file, kind: r.syntax === 'json' ? 'nft-json' : 'nft-text' }], [], [r]);
const textHost = (path: string): Host => nftHost(parseNftText(read(path), { file: path }));

const CASES = [
  { dir: 'a-default-nat', xmls: ['network.xml'] },
  { dir: 'b-host-only', xmls: ['network.xml'] },
  { dir: 'k-iptables-hostfw-plus-nft', xmls: ['network1.xml', 'network2.xml'] },
] as const;

describeCorpus('explain of libvirt 11.3 nft captures', () => {
  for (const c of CASES) {
    it(`${c.dir}: every libvirt rule has the engine's purpose and sentence for it`, () => {
      const networks = c.xmls.flatMap((x) => readNetworks(read(join(NFT_REAL, c.dir, x)), x));
      const program = compile(networks, { flavor: 'libvirt-nft' });
      const byKey = new Map<string, { purpose: string; why: string; network: string }>();
      for (const cmd of program.commands) {
        const rule = nftRuleOf(cmd);
        if (rule)
          byKey.set(
            `${cmd.effect.kind === 'nft-insert' ? cmd.effect.family : ''} ${cmd.effect.kind === 'nft-insert' ? cmd.effect.chain : ''} ${nftRuleKey(rule)}`,
            { purpose: cmd.purpose, why: cmd.why, network: cmd.network },
          );
      }
      const host = textHost(join(NFT_REAL, c.dir, 'after.nft.txt'));
      const given = networksFromDefinitions(networks);
      const report = explainHost(host, hostNetworks([host], given));
      const libvirt = report.nftRules.filter((r) => r.table.endsWith(' libvirt_network'));
      expect(libvirt.length).toBeGreaterThan(0);
      for (const r of libvirt) {
        const rule = host
          .nft!.tables.find((t) => `${t.family} ${t.name}` === r.table)!
          .chains.find((ch) => ch.name === r.chain)!.rules[r.position - 1]!;
        const engine = byKey.get(`${rule.family} ${r.chain} ${nftRuleKey(rule)}`);
        expect(engine, `${r.table} ${r.chain}: ${r.text} is a rule the engine writes`).toBeDefined();
        expect(r.purpose).toBe(engine!.purpose);
        expect(r.why).toBe(engine!.why);
        expect(r.owner).toBe('libvirt');
        if (engine!.purpose !== 'chain-setup') expect(r.network).toBe(engine!.network);
      }
    });
  }

  for (const c of CASES) {
    it(`${c.dir}: compile --flavor libvirt-nft, in the nft model, holds the capture's libvirt rules, by content`, () => {
      const networks = c.xmls.flatMap((x) => readNetworks(read(join(NFT_REAL, c.dir, x)), x));
      const compiled = nftModelOf(applyProgram(compile(networks, { flavor: 'libvirt-nft' }), emptyHostState()).nft);
      const captured = parseNftText(read(join(NFT_REAL, c.dir, 'after.nft.txt')), { file: 'after.nft.txt' });
      const rules = (r: NftRuleset) =>
        r.tables
          .filter((t) => t.name === 'libvirt_network')
          .map((t) => [`${t.family} ${t.name}`, t.chains.map((ch) => [ch.name, ch.base, ch.rules.map(nftRuleKey)])]);
      expect(rules(compiled)).toEqual(rules(captured));
    });
  }

  it("without --net, networks are inferred from libvirt's table: the bridges, their subnets and modes", () => {
    const host = textHost(join(NFT_REAL, 'k-iptables-hostfw-plus-nft', 'after.nft.txt'));
    const report = explainHost(host, hostNetworks([host], []));
    expect(report.networks.map((n) => [n.name, n.bridge, n.subnets, n.verdict])).toEqual([
      ['virbr1', 'virbr1', [], 'isolated'],
      ['virbr0', 'virbr0', ['192.168.122.0/24'], 'nat'],
    ]);
  });

  it('text and JSON of the same moment explain alike', () => {
    const text = textHost(join(NFT_REAL, 'a-default-nat', 'after.nft.txt'));
    const json = nftHost(
      parseNftJson(read(join(NFT_REAL, 'a-default-nat', 'after.nft.json')), { file: 'after.nft.json' }),
    );
    const strip = (h: Host) =>
      explainHost(h, hostNetworks([h], [])).nftRules.map((r) => [
        r.table,
        r.chain,
        r.position,
        r.text,
        r.network,
        r.owner,
        r.purpose,
        r.why,
      ]);
    expect(strip(json)).toEqual(strip(text));
  });

  it("iptables-nft's table is counted once: its rules from iptables-save, not from nft's translation", () => {
    const dir = join(NFT_REAL, 'k-iptables-hostfw-plus-nft');
    const nft = parseNftText(read(join(dir, 'after.nft.txt')), { file: 'after.nft.txt' });
    const dump = parseSave(read(join(dir, 'after.iptables-save.txt')), { file: 'after.iptables-save.txt' });
    const host = assembleHost('k', [], [dump], [nft]);
    expect(nft.tables.find((t) => t.name === 'filter')!.owner).toBe('iptables-nft');
    const report = explainHost(host, hostNetworks([host], []));
    expect(report.nftRules.some((r) => r.table === 'ip filter')).toBe(false);
    expect(report.rules.filter((r) => r.table === 'filter').map((r) => r.text)).toContain(
      '-A FORWARD -j REJECT --reject-with icmp-host-prohibited',
    );
  });

  it('diff of two moments: the second network added its rules; counters alone change nothing', () => {
    const dir = join(NFT_REAL, 'k-iptables-hostfw-plus-nft');
    const start1 = textHost(join(dir, 'after-start1.nft.txt'));
    const start2 = textHost(join(dir, 'after-start2.nft.txt'));
    const d = diffHosts(start1, start2, hostNetworks([start1, start2], []));
    expect(d.nft.added.map((r) => `${r.chain} ${r.purpose} ${r.network}`)).toEqual([
      'guest_output reject-out virbr1',
      'guest_input reject-in virbr1',
      'guest_cross cross-bridge virbr1',
    ]);
    expect(d.nft.removed).toEqual([]);
    expect(d.summary[0]).toMatch(/^starting virbr1 added 3 nft rules: isolated/);
    // after → after-probes: only counters moved.
    const after = textHost(join(NFT_REAL, 'a-default-nat', 'after.nft.txt'));
    const probes = textHost(join(NFT_REAL, 'a-default-nat', 'after-probes.nft.txt'));
    const same = diffHosts(after, probes, hostNetworks([after, probes], []));
    expect([same.nft.added, same.nft.removed, same.nft.moved]).toEqual([[], [], []]);
    // nft -a text (handles) against JSON (handles) against plain text: the same rules.
    const handles = textHost(join(NFT_REAL, 'a-default-nat', 'after.nft-handles.txt'));
    expect(diffHosts(after, handles, hostNetworks([after], [])).nft.unchanged).toBe(16);
  });

  it('a rule that changed place is moved, not removed and added; a new table order is said', () => {
    const path = join(NFT_REAL, 'a-default-nat', 'after.nft.txt');
    const lines = read(path).split('\n');
    const i = lines.findIndex((l) => l.includes('jump guest_cross'));
    const swapped = [...lines];
    [swapped[i], swapped[i + 2]] = [lines[i + 2]!, lines[i]!];
    const before = textHost(path);
    const after = nftHost(parseNftText(swapped.join('\n'), { file: 'swapped.nft' }));
    const d = diffHosts(before, after, hostNetworks([before], []));
    expect(d.nft.added).toEqual([]);
    expect(d.nft.removed).toEqual([]);
    // Swapping the first and third jump: one of the three stays in sequence, the other two moved.
    expect(d.nft.moved).toHaveLength(2);
    expect(d.nft.moved.map((m) => m.rule.text).every((t) => /jump guest_(cross|input|output)$/.test(t))).toBe(true);
    expect(d.nft.moved.find((m) => m.rule.text.endsWith('guest_cross'))).toMatchObject({
      from: { position: 1 },
      to: { position: 3 },
    });
    expect(d.nft.unchanged).toBe(14);
    const a = textHost(join(NFT_REAL, 'p-priority-order', 'ruleset-A.nft.txt'));
    const b = textHost(join(NFT_REAL, 'p-priority-order', 'ruleset-B.nft.txt'));
    const order = diffHosts(a, b, hostNetworks([a, b], []));
    expect(order.nft.tables.reordered).toBe(true);
    expect(order.summary.join('\n')).toMatch(/created in another order/);
  });
});

describe('explain of nft tables other software makes (corpus/nft)', () => {
  const owners = (file: string) => {
    const host = textHost(join(REPO_CORPUS, 'nft', file));
    return new Set(explainHost(host, hostNetworks([host], [])).nftRules.map((r) => r.owner));
  };
  it("firewalld's inet firewalld is firewalld's; Docker's docker-bridges is Docker's; a host firewall is the host's", () => {
    expect(owners('firewalld-like.nft')).toEqual(new Set(['firewalld']));
    expect(owners('docker-like.nft')).toEqual(new Set(['docker']));
    expect(owners('host-firewall.nft')).toEqual(new Set(['host']));
  });
  it('rules no network explains are described from their statements', () => {
    const host = textHost(join(REPO_CORPUS, 'nft', 'host-firewall.nft'));
    const rules = explainHost(host, hostNetworks([host], [])).nftRules;
    expect(rules.map((r) => r.why)).toContain(
      'packets for the host tcp to port 22, connection state new are accepted (by this chain; other base chains on the hook still run)',
    );
  });
});
