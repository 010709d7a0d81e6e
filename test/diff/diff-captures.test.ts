// diff and explain on real libvirt 9.0 captures and the seed lab: exactly the rules a
// network adds, attributed to it, with the mode they amount to; era spellings are no change.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { inferNetworks, networksFromDefinitions } from '../../src/explain/attribute.js';
import { diffReport } from '../../src/diff/report.js';
import { explainReport } from '../../src/explain/report.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { formatRule } from '../../src/write/save.js';
import { runCli } from '../helpers/cli.js';
import { describeCorpus, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

const REAL = join(SHARED_CORPUS, 'libvirt-real');
const dump = (path: string) => parseSave(read(path), { file: path });
const nets = (...files: string[]) => networksFromDefinitions(files.flatMap((f) => readNetworks(read(f), f)));

describeCorpus('diff on the real libvirt 9.0 captures', () => {
  const cases = [
    { dir: 'a-default-nat', name: 'default', bridge: 'virbr0', verdict: 'nat' },
    { dir: 'b-host-only', name: 'host-only', bridge: 'virbr1', verdict: 'isolated' },
    { dir: 'c-natted', name: 'natted', bridge: 'virbr2', verdict: 'nat' },
  ] as const;

  for (const c of cases) {
    it(`${c.dir}: before → after adds exactly after's rules, the network's attributed to ${c.name}, verdict ${c.verdict}`, () => {
      const before = dump(join(REAL, c.dir, 'before.txt'));
      const after = dump(join(REAL, c.dir, 'after.txt'));
      const given = nets(join(REAL, c.dir, 'network.xml'));
      const report = diffReport(before, after, inferNetworks([before, after], given));
      const expected = after.tables.flatMap((t) =>
        t.chains.flatMap((ch) => ch.rules.map((r) => formatRule(r, 'ipv4'))),
      );
      expect(report.added.map((r) => r.text).sort()).toEqual(expected.sort());
      expect(report.removed).toEqual([]);
      expect(report.moved).toEqual([]);
      for (const r of report.added) {
        if (r.purpose === 'chain-setup') expect(r.network).toBeNull();
        else expect(r.network, r.text).toBe(c.name);
        expect(r.why.length).toBeGreaterThan(10);
      }
      const n = report.networks.find((x) => x.name === c.name)!;
      expect(n).toMatchObject({
        before: 'none',
        verdict: c.verdict,
        bridge: c.bridge,
        added: report.added.filter((r) => r.purpose !== 'chain-setup').length,
      });
      expect(report.summary[0]).toMatch(
        new RegExp(`^starting ${c.name} \\(${c.bridge}, 192\\.168\\.\\d+\\.0/24\\) added \\d+ rules`),
      );
    });

    it(`${c.dir}: without --net the network is inferred from the dump (${c.bridge}), with the same verdict`, () => {
      const after = dump(join(REAL, c.dir, 'after.txt'));
      const report = diffReport(dump(join(REAL, c.dir, 'before.txt')), after, inferNetworks([after]));
      expect(report.networks.map((n) => [n.name, n.verdict])).toEqual([[c.bridge, c.verdict]]);
    });

    it(`${c.dir}: after → destroyed removes the network's rules and reports the empty chains libvirt leaves`, () => {
      const after = dump(join(REAL, c.dir, 'after.txt'));
      const destroyed = dump(join(REAL, c.dir, 'destroyed.txt'));
      const report = diffReport(
        after,
        destroyed,
        inferNetworks([after, destroyed], nets(join(REAL, c.dir, 'network.xml'))),
      );
      expect(report.added).toEqual([]);
      expect(report.removed.every((r) => r.network === c.name)).toBe(true);
      expect(report.removed.length).toBe(
        after.tables
          .flatMap((t) => t.chains.flatMap((ch) => ch.rules))
          .filter((r) => !r.target || !r.target.name.startsWith('LIBVIRT_')).length,
      );
      expect(report.chains.removed).toEqual([]);
      expect(report.networks.find((n) => n.name === c.name)).toMatchObject({ before: c.verdict, verdict: 'none' });
      expect(report.summary).toContain(
        `stopping ${c.name} (${c.bridge}, ${report.networks.find((n) => n.name === c.name)!.subnets[0]}) removed ${report.removed.length} rules.`,
      );
      expect(report.summary.join('\n')).toMatch(/libvirt leaves its LIBVIRT_\* chains and 7 jumps behind/);
    });
  }

  it('host-only → natted: natted = host-only + masquerade + forward-out + related-in, each addition explained', () => {
    const b = join(REAL, 'b-host-only');
    const c = join(REAL, 'c-natted');
    const report = diffReport(
      dump(join(b, 'after.txt')),
      dump(join(c, 'after.txt')),
      nets(join(b, 'network.xml'), join(c, 'network.xml')),
    );
    const paragraph = report.summary.find((l) => l.startsWith('natted (nat) = host-only (host-only)'));
    expect(paragraph).toBeDefined();
    expect(paragraph).toMatch(
      /\+ forward-out, related-in, masquerade, masquerade-ports, no-masquerade-broadcast, no-masquerade-multicast\./,
    );
    expect(paragraph).toContain("masquerade: guests' addresses are replaced by the host's on the way out");
    expect(paragraph).toContain('forward-out: guests may start connections to anywhere');
    expect(paragraph).toContain('related-in: replies may come back in to guests');
    expect(report.networks.map((n) => [n.name, n.before, n.verdict])).toEqual([
      ['host-only', 'isolated', 'none'],
      ['natted', 'none', 'nat'],
    ]);
  });
});

describe('era tolerance and identity', () => {
  const lab = join(REPO_CORPUS, 'seed-lab');
  it('the seed lab iptables 1.3.5 dump against its modern canonical form: no change', () => {
    const report = diffReport(dump(join(lab, 'clean-host.save')), dump(join(lab, 'clean-host.canonical.save')), []);
    expect({ added: report.added, removed: report.removed, moved: report.moved, respelled: report.respelled }).toEqual({
      added: [],
      removed: [],
      moved: [],
      respelled: [],
    });
    expect(report.summary).toEqual([
      'no change: the two dumps hold the same rules in the same order (counters and comments aside).',
    ]);
  });

  it("'-m state --state RELATED,ESTABLISHED' and '-m conntrack --ctstate ESTABLISHED,RELATED' are the same rule, spelling noted", () => {
    const report = diffReport(
      dump(join(REPO_CORPUS, 'diff', 'state.save')),
      dump(join(REPO_CORPUS, 'diff', 'conntrack.save')),
      [],
    );
    expect(report.added).toEqual([]);
    expect(report.removed).toEqual([]);
    expect(report.respelled).toHaveLength(1);
    expect(report.respelled[0]!.note).toBe("'-m state --state' and '-m conntrack --ctstate' match the same packets");
  });

  it('the seed lab host before and after starting natted (libvirt 0.6.3): 10 rules, a nat network, in 1.3.5 spelling', () => {
    const before = dump(join(lab, 'clean-host.save'));
    const after = dump(join(lab, 'expected-0.6.3', 'natted.save'));
    const report = diffReport(before, after, inferNetworks([before, after], nets(join(lab, 'natted.xml'))));
    expect(report.added).toHaveLength(10);
    expect(report.networks.find((n) => n.name === 'natted')).toMatchObject({ before: 'none', verdict: 'nat' });
    expect(report.added.filter((r) => r.network === 'natted')).toHaveLength(10);
  });
});

describeCorpus('moves in a real admin session (TUM firewall, 2015-05-15)', () => {
  it('14:14 → 14:35: three rules moved, nothing added or removed, each with from/to positions', () => {
    const base = join(
      SHARED_CORPUS,
      'real-world',
      'configs_chair_for_Network_Architectures_and_Services__iptables-save-2015-05-15_',
    );
    // The published dumps censor MAC addresses as XX:XX:…, which iptables (and so virtables) refuses.
    const uncensored = (path: string) =>
      parseSave(read(path).replaceAll('XX:XX:XX:XX:XX:XX', '02:00:00:00:00:01'), { file: path });
    const report = diffReport(uncensored(`${base}14-14-46`), uncensored(`${base}14-35-03`), []);
    expect(report.added).toEqual([]);
    expect(report.removed).toEqual([]);
    expect(report.moved.map((m) => `${m.rule.chain} #${m.from.position}→#${m.to.position} ${m.rule.text}`)).toEqual([
      'INPUT #8→#9 -A INPUT -i eth1.110 -j filter_INPUT',
      'FORWARD #60→#22 -A FORWARD -i eth1.110 -j NOTFROMHERE',
      'FORWARD #95→#55 -A FORWARD -i eth1.1024 -j NOTFROMHERE',
    ]);
    expect(report.networks).toEqual([]);
  });
});

describeCorpus('virtables diff / explain on the command line', () => {
  it('diff --format json has the documented shape', async () => {
    const r = await runCli([
      'diff',
      join(REAL, 'c-natted', 'before.txt'),
      join(REAL, 'c-natted', 'after.txt'),
      '--net',
      join(REAL, 'c-natted', 'network.xml'),
      '--format',
      'json',
    ]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(Object.keys(json).sort()).toEqual([
      'added',
      'after',
      'before',
      'chains',
      'moved',
      'networks',
      'nft',
      'removed',
      'respelled',
      'summary',
      'unchanged',
    ]);
    expect(json.nft).toEqual({
      added: [],
      removed: [],
      moved: [],
      tables: { added: [], removed: [], reordered: false },
      chains: { added: [], removed: [], changed: [] },
      unchanged: 0,
    });
    expect(Object.keys(json.added[0]).sort()).toEqual([
      'chain',
      'family',
      'file',
      'line',
      'network',
      'owner',
      'position',
      'purpose',
      'table',
      'text',
      'why',
    ]);
    expect(Object.keys(json.networks[0]).sort()).toEqual([
      'added',
      'before',
      'bridge',
      'missing',
      'name',
      'origin',
      'purposes',
      'removed',
      'subnets',
      'summary',
      'verdict',
    ]);
    expect(json.networks[0]).toMatchObject({
      name: 'natted',
      bridge: 'virbr2',
      subnets: ['192.168.124.0/24'],
      verdict: 'nat',
    });
  });

  it('explain reads standard input and groups by network', async () => {
    const r = await runCli(
      ['explain', '-', '--net', join(REAL, 'b-host-only', 'network.xml')],
      read(join(REAL, 'b-host-only', 'after.txt')),
    );
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(
      '== host-only (virbr1, 192.168.123.0/24): isolated — isolated (host-only): guests on virbr1 reach each other and the host (DHCP, DNS), nothing is forwarded in or out',
    );
    expect(r.stdout).toContain("== libvirt's shared set-up (all networks)");
  });

  it("explain marks an admin's accept that can never match (seed lab query 5), text and json", async () => {
    const dump = join(REPO_CORPUS, 'audit', 'port-forward-never-reaches-guest', 'accept-after-reject.save');
    const text = await runCli(['explain', dump]);
    expect(text.stdout).toContain(
      'to port 80 are accepted — never matches: line 31 `-A FORWARD -o virbr2 -j REJECT --reject-with icmp-port-unreachable` rejects its packets first',
    );
    const json = JSON.parse((await runCli(['explain', dump, '--format', 'json'])).stdout) as {
      rules: Array<{ line: number; neverMatches: unknown }>;
    };
    expect(json.rules.filter((r) => r.neverMatches).map((r) => [r.line, r.neverMatches])).toEqual([
      [
        34,
        { line: 31, text: '-A FORWARD -o virbr2 -j REJECT --reject-with icmp-port-unreachable', verdict: 'rejected' },
      ],
    ]);
  });

  it('explain marks the same mistake in an ip6tables-save (the IPv6 host simulated from it)', async () => {
    const dump = join(REPO_CORPUS, 'audit', 'ipv6', 'port-forward6.ip6.save');
    const json = JSON.parse((await runCli(['explain', dump, '--format', 'json'])).stdout) as {
      rules: Array<{ line: number; neverMatches: unknown }>;
    };
    expect(json.rules.filter((r) => r.neverMatches).map((r) => [r.line, r.neverMatches])).toEqual([
      [
        27,
        {
          line: 29,
          text: '-A LIBVIRT_FWI -o virbr6 -j REJECT --reject-with icmp6-port-unreachable',
          verdict: 'rejected',
        },
      ],
    ]);
  });

  it("a Shorewall host's '-o lup -j MASQUERADE' is the host's own rule, not blamed on Xen", async () => {
    const f = join(SHARED_CORPUS, 'real-world', 'configs_sqrl_shorewall__2015_aug_iptables-save');
    const j = JSON.parse((await runCli(['explain', f, '--format', 'json'])).stdout) as {
      rules: Array<{ text: string; owner: string; purpose: string | null }>;
    };
    expect(j.rules.find((r) => r.text === '-A POSTROUTING -o lup -j MASQUERADE')).toMatchObject({
      owner: 'host',
      purpose: null,
    });
    expect(j.rules.filter((r) => r.owner === 'xen')).toEqual([]);
    expect((await runCli(['explain', f])).stdout).not.toContain('== Xen');
  });

  it('bad input: exit 2 with FILE:LINE:COL, nothing on stdout', async () => {
    const r = await runCli(['diff', '-', join(REAL, 'c-natted', 'after.txt')], '*filter\n-A INPUT -j ACCEPT\n');
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: "-:3:1: unexpected end of input: table 'filter' (line 1) is not closed with COMMIT (truncated dump?)\n",
    });
  });
});

describe('explain covers every rule', () => {
  it('every rule of the seed lab host with both networks has a sentence; none is blank', () => {
    const d = dump(join(REPO_CORPUS, 'seed-lab', 'expected-0.6.3', 'host-only+natted.save'));
    const report = explainReport([d], inferNetworks([d]));
    expect(report.rules.length).toBe(d.tables.flatMap((t) => t.chains.flatMap((c) => c.rules)).length);
    for (const r of report.rules) expect(r.why.trim().length, r.text).toBeGreaterThan(15);
    expect(report.networks.map((n) => [n.name, n.verdict])).toEqual([
      ['virbr2', 'nat'],
      ['virbr1', 'isolated'],
    ]);
    expect(report.rules.find((r) => r.text === '-A INPUT -p icmp -m icmp --icmp-type any -j ACCEPT')!.why).toBe(
      'icmp packets for the host of any ICMP type are accepted',
    );
  });
});
