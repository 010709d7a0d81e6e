// The one input reader: each file recognised by content (iptables-save, ip6tables-save, nft text,
// nft JSON; `-` sniffed too), several files and directories (as `live --save-dir` writes) as one
// host, an empty file as "no tables", nft where only iptables is meaningful named as such.

import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sniff } from '../../src/input/sniff.js';
import { describeCorpus, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { runCli } from '../helpers/cli.js';
import { read } from '../helpers/files.js';

const NFT_REAL = join(SHARED_CORPUS, 'nft-real');
const A = join(NFT_REAL, 'a-default-nat');
const K = join(NFT_REAL, 'k-iptables-hostfw-plus-nft');

describeCorpus('input kinds, told from content', () => {
  it('each capture is what it is, whatever its name', () => {
    expect(sniff(read(join(A, 'after.nft.txt')))).toBe('nft-text');
    expect(sniff(read(join(A, 'after.nft.json')))).toBe('nft-json');
    expect(sniff(read(join(A, 'after.nft-handles.txt')))).toBe('nft-text');
    expect(sniff(read(join(K, 'after.iptables-save.txt')))).toBe('iptables-save');
    expect(sniff(read(join(A, 'after.iptables-save.txt')))).toBe('empty');
    expect(sniff(read(join(REPO_CORPUS, 'nft', 'host-firewall.nft')))).toBe('nft-text');
    expect(sniff(read(join(A, 'network.xml')))).toBe('network');
    expect(sniff(read(join(REPO_CORPUS, 'listings', 'host-only+natted.S.txt')))).toBe('listing');
  });

  it('parse prints nft input as nft lists it, text or JSON; --format json as nft -j does', async () => {
    const text = await runCli(['parse', join(A, 'after.nft.txt')]);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toBe(read(join(A, 'after.nft.txt')));
    const fromJson = await runCli(['parse', join(A, 'after.nft.json')]);
    expect(fromJson.stdout).toBe(read(join(A, 'after.nft.txt')));
    const json = await runCli(['parse', '--format', 'json', join(A, 'after.nft.json')]);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(read(join(A, 'after.nft.json'))));
    const stdin = await runCli(['parse', '-'], read(join(A, 'after.nft.json')));
    expect(stdin.stdout).toBe(read(join(A, 'after.nft.txt')));
  });

  it('parse refuses what it cannot print, with the position; and names the kind a --format does not fit', async () => {
    const xt = await runCli(['parse', join(K, 'after.nft.json')]);
    expect(xt.code).toBe(2);
    expect(xt.stdout).toBe('');
    expect(xt.stderr).toMatch(
      /after\.nft\.json:1:\d+: nftables\[5\]\.rule\.expr\[1\]: xt match icmp: an iptables-nft extension/,
    );
    const save = await runCli(['parse', '--format', 'save', join(A, 'after.nft.txt')]);
    expect(save.code).toBe(2);
    expect(save.stderr).toMatch(/is nft text \(nft list ruleset\); --format save prints iptables-save/);
    const nft = await runCli(['parse', '--format', 'nft', join(K, 'after.iptables-save.txt')]);
    expect(nft.stderr).toMatch(/is iptables-save output; --format nft prints nft rulesets/);
  });

  it('an empty file holds no tables: parse prints nothing, explain says so', async () => {
    expect(await runCli(['parse', join(A, 'after.iptables-save.txt')])).toMatchObject({ code: 0, stdout: '' });
    const e = await runCli(['explain', join(A, 'after.iptables-save.txt')]);
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/after\.iptables-save\.txt: empty \(no tables\)/);
    expect(e.stdout).not.toMatch(/ACCEPT/);
  });

  it('nft text where only iptables is meaningful is named, not misread as a broken dump', async () => {
    // trace follows nft rules now: the listing is read as what it is.
    const t = await runCli([
      'trace',
      join(A, 'after.nft.txt'),
      '--net',
      join(A, 'network.xml'),
      '--from',
      'outside',
      '--to',
      '192.168.122.10',
    ]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/REJECTED — rejected in ip libvirt_network guest_input/);
    const c = await runCli(['compile', join(A, 'network.xml'), '--base', join(A, 'after.nft.txt')]);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/is nft text \(nft list ruleset\); an iptables-save dump is expected here/);
  });

  it('a directory as live --save-dir writes it is one host: dumps by content, networks left to --net', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'virtables-inputs-'));
    copyFileSync(join(K, 'after.iptables-save.txt'), join(dir, 'iptables-save.txt'));
    copyFileSync(join(K, 'after.ip6tables-save.txt'), join(dir, 'ip6tables-save.txt'));
    copyFileSync(join(K, 'after.nft.txt'), join(dir, 'nft-ruleset.txt'));
    writeFileSync(join(dir, 'collected.txt'), '# virtables live collection (layout: docs/commands/live.md)\nhost: k\n');
    mkdirSync(join(dir, 'networks'));
    copyFileSync(join(K, 'network1.xml'), join(dir, 'networks', 'default.xml'));
    const r = await runCli(['explain', '--format', 'json', dir]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      inputs: Array<{ file: string; kind: string }>;
      nftRules: Array<{ table: string }>;
      rules: Array<{ table: string }>;
    };
    expect(report.inputs.map((i) => [i.file.slice(dir.length + 1), i.kind])).toEqual([
      ['ip6tables-save.txt', 'empty'],
      ['iptables-save.txt', 'iptables-save'],
      ['nft-ruleset.txt', 'nft-text'],
    ]);
    // ip filter is iptables-nft's: its rules come from iptables-save, once.
    expect(report.nftRules.some((x) => x.table === 'ip filter')).toBe(false);
    expect(report.rules.filter((x) => x.table === 'filter')).toHaveLength(6);
    expect(report.nftRules.filter((x) => x.table === 'ip libvirt_network')).toHaveLength(16);
  });

  it('one host takes one dump per family', async () => {
    const r = await runCli(['explain', join(K, 'after.iptables-save.txt'), join(K, 'before.iptables-save.txt')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/two IPv4 iptables dumps for one host/);
  });

  it('audit says when it tells hosts apart by directory alone (one host split in two would miss rules)', async () => {
    const [v4, nft, same] = ['v4', 'nft', 'same'].map((d) => join(mkdtempSync(join(tmpdir(), 'virtables-hosts-')), d));
    for (const d of [v4!, nft!, same!]) mkdirSync(d);
    copyFileSync(join(K, 'after.iptables-save.txt'), join(v4!, 'iptables-save.txt'));
    copyFileSync(join(K, 'after.nft.txt'), join(nft!, 'nft-ruleset.txt'));
    copyFileSync(join(K, 'after.iptables-save.txt'), join(same!, 'iptables-save.txt'));
    copyFileSync(join(K, 'after.nft.txt'), join(same!, 'nft-ruleset.txt'));
    const split = await runCli([
      'audit',
      join(v4!, 'iptables-save.txt'),
      join(nft!, 'nft-ruleset.txt'),
      '--format',
      'json',
    ]);
    expect(split.stderr).toContain(
      `read as 2 hosts, one per directory (${v4}, ${nft}); if these files are one host's, put them in one directory`,
    );
    expect(JSON.parse(split.stdout).hosts).toHaveLength(2);
    const one = await runCli([
      'audit',
      join(same!, 'iptables-save.txt'),
      join(same!, 'nft-ruleset.txt'),
      '--format',
      'json',
    ]);
    expect(one.stderr).not.toContain('read as');
    // Two IPv4 dumps cannot be one host's: two hosts, nothing to say.
    const two = await runCli([
      'audit',
      join(v4!, 'iptables-save.txt'),
      join(same!, 'iptables-save.txt'),
      '--format',
      'json',
    ]);
    expect(two.stderr).not.toContain('read as');
    expect(JSON.parse(two.stdout).hosts).toHaveLength(2);
  });

  it("audit judges the nft tables it read: libvirt's network inferred from them, no note that they were skipped", async () => {
    const r = await runCli(['audit', join(A, 'after.nft.txt'), '--format', 'json']);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout);
    expect(j.hosts?.[0]?.networks ?? j.networks).toEqual(
      expect.arrayContaining([expect.objectContaining({ bridge: 'virbr0', state: 'inferred' })]),
    );
  });
});

describe('input kinds of text no tool printed', () => {
  it('binary junk is refused with its position; unknown text says what was expected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'virtables-junk-'));
    writeFileSync(join(dir, 'junk'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00]));
    const j = await runCli(['parse', join(dir, 'junk')]);
    expect(j.code).toBe(2);
    expect(j.stderr).toMatch(/junk:1:\d+: binary data/);
    const u = await runCli(['parse', '-'], 'hello world\n');
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/-:1:1: parse: not a firewall dump: expected iptables-save/);
  });
});
