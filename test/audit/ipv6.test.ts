// IPv6-only and empty dumps: an ip6tables dump judged alone has no IPv4 DHCP to miss, a nat
// network's IPv6 side is routed (libvirt does not NAT it), an empty dump is said to be empty,
// and one host's iptables-save and ip6tables-save audited together report each finding once.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { describeCorpus, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { audit } from './harness.js';

const V6 = join(REPO_CORPUS, 'audit', 'ipv6');
const net = join(V6, 'natted6.xml');
const REAL = join(SHARED_CORPUS, 'libvirt-real', 'c-natted');

interface Report {
  findings: Array<{
    id: string;
    network: string | null;
    family?: string;
    severity: string;
    message: string;
    fix: string;
    location: { file: string; line: number } | null;
  }>;
  networks: Array<{ name: string; verdict: string; summary: string }>;
  hosts: Array<{ flavor: { flavor: string | null; reason: string } }>;
}
const json = async (args: string[]): Promise<Report> =>
  JSON.parse((await runCli(['audit', ...args, '--format', 'json'])).stdout) as Report;

describe('audit of an IPv6 dump', () => {
  it('alone, with its network: routed (its IPv6 side), not partial; outside reaches the guests over IPv6', async () => {
    const r = await json([join(V6, 'natted6.ip6.save'), '--net', net]);
    expect(r.networks[0]).toMatchObject({ name: 'natted6', verdict: 'route' });
    expect(r.networks[0]!.summary).toContain(
      "the IPv6 side of a nat network: libvirt routes IPv6 rather than NAT it (no <nat ipv6='yes'/>)",
    );
    expect(r.networks[0]!.summary).not.toContain('lacks dhcp-in');
    // The simulated IPv6 host: libvirt's `-d 2001:db8:126::/64 -o virbr6 -j ACCEPT` takes new connections from outside.
    expect(r.findings).toMatchObject([
      {
        id: 'guest-reachable-from-outside',
        network: 'natted6',
        family: 'ipv6',
        severity: 'warning',
        location: { line: 26 },
      },
      // libvirt turns on IPv6 forwarding for it, and ip6tables' FORWARD policy is ACCEPT: the host routes IPv6 for
      // anyone.
      {
        id: 'forward-policy-accept-with-ip-forward',
        network: null,
        family: 'ipv6',
        severity: 'info',
        location: { line: 14 },
      },
    ]);
  });

  it('alone, networks inferred: no missing-rule for IPv4 DHCP', async () => {
    const r = await json([join(V6, 'natted6.ip6.save')]);
    expect(r.networks[0]).toMatchObject({ name: 'virbr6', verdict: 'route' });
    expect(r.findings.map((f) => f.id)).not.toContain('missing-rule');
  });

  it('with its iptables-save: one host, nat with IPv6 routed, each finding once', async () => {
    const r = await json([join(V6, 'natted6.save'), join(V6, 'natted6.ip6.save'), '--net', net]);
    expect(r.hosts).toHaveLength(1);
    expect(r.networks[0]).toMatchObject({ name: 'natted6', verdict: 'nat' });
    expect(r.networks[0]!.summary).toContain('its IPv6 is routed, not NATed (outside reaches the guests over IPv6)');
    // IPv4 is closed (NAT), IPv6 routed: the exposure is reported for IPv6 only.
    // The FORWARD policy is judged per family: both are ACCEPT, and libvirt turns on forwarding in both.
    expect(r.findings.map((f) => `${f.id} ${f.network} ${f.family ?? '-'}`)).toEqual([
      'guest-reachable-from-outside natted6 ipv6',
      'forward-policy-accept-with-ip-forward null ipv4',
      'forward-policy-accept-with-ip-forward null ipv6',
    ]);
    const ids = (
      await audit({ name: 'dual', dumps: [join(V6, 'natted6.save'), join(V6, 'natted6.ip6.save')], net: [net] })
    ).map((f) => `${f.id} ${f.family ?? '-'}`);
    expect(ids).toEqual([...new Set(ids)]);
  });

  it('diff from an empty ip6tables-save: the network it starts is routed, not damaged', async () => {
    const r = JSON.parse(
      (
        await runCli([
          'diff',
          join(REPO_CORPUS, 'audit', 'ipv6', 'empty.ip6.save'),
          join(V6, 'natted6.ip6.save'),
          '--net',
          net,
          '--format',
          'json',
        ])
      ).stdout,
    ) as { networks: Array<{ name: string; verdict: string; before: string }> };
    expect(r.networks[0]).toMatchObject({ name: 'natted6', before: 'none', verdict: 'route' });
  });
});

describeCorpus('audit of the real captures: IPv6 and empty dumps', () => {
  it("an IPv4-only network's ip6tables dump: it has no IPv6 address, so no IPv6 rules — said, not taken for nftables", async () => {
    const r = await json([join(REAL, 'after.ip6.txt'), '--net', join(REAL, 'network.xml')]);
    expect(r.networks[0]!.summary).toBe(
      'no IPv6 rules: the network has no IPv6 address, so libvirt adds none to ip6tables (its IPv4 rules are in iptables-save)',
    );
    expect(r.findings.map((f) => f.id)).not.toContain('rules-not-in-dump');
  });

  it('an empty ip6tables-save: "no rules", in audit and explain', async () => {
    const r = await json([join(REAL, 'before.ip6.txt')]);
    expect(r.hosts[0]!.flavor.reason).toBe(
      `no rules at all: ${join(REAL, 'before.ip6.txt')} is empty (ip6tables-save and iptables-save print nothing while no table is in use)`,
    );
    // Not "no findings": nothing was read and no network given, which the audit says (a warning at the file).
    const empty = r.findings.filter((f) => f.id === 'rules-not-in-dump');
    expect(empty.map((f) => [f.severity, f.network, f.location?.file, f.location?.line])).toEqual([
      ['warning', null, join(REAL, 'before.ip6.txt'), 1],
    ]);
    expect(empty[0]!.message).toMatch(
      /is empty \(no iptables table at all\) and no network was given, so there is nothing here to audit/,
    );
    expect(empty[0]!.fix).toContain('nft list ruleset');
    const e = await runCli(['explain', join(REAL, 'before.ip6.txt')]);
    expect(e.stdout).toBe(
      `${join(REAL, 'before.ip6.txt')}: empty (no tables): no rules, as ip6tables-save and iptables-save print nothing while no table is in use\n`,
    );
    expect(e.code).toBe(0);
  });
});
