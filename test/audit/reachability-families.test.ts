// The reachability checks in every family and flavour, on real captures: libvirt 9.0.0's IPv6
// nat and route networks (corpus/libvirt-ipv6, printed by the real libvirtd in a namespace) and
// Xen's own scripts (../shared/corpus/xen/captures). One verdict per family: a dual-stack nat
// network is closed on IPv4 and routed (open) on IPv6, and is reported for IPv6 only.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { describeCorpus, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { audit } from './harness.js';

const V6 = join(REPO_CORPUS, 'libvirt-ipv6');
const XEN = join(SHARED_CORPUS, 'xen', 'captures');
const XEN_SETUP = join(REPO_CORPUS, 'xen');
const REACH = new Set([
  'guest-reachable-from-outside',
  'networks-can-reach-each-other',
  'dns-on-isolated-network',
  'port-forward-never-reaches-guest',
]);

type Found = Awaited<ReturnType<typeof audit>>;
const reach = (found: Found): string[] =>
  found
    .filter((f) => REACH.has(f.id))
    .map(
      (f) =>
        `${f.id} ${f.severity} ${f.network} ${f.family ?? '-'} ${f.location?.file.split('/').pop()}:${f.location?.line}`,
    );
const three = (dir: string): string[] => [1, 2, 3].map((i) => join(V6, dir, `network${i}.xml`));

describe('IPv6: libvirt 9.0.0 dual-stack networks, captured', () => {
  it('nat6 alone: closed on IPv4 (NAT), open on IPv6 (libvirt routes it): one warning, for IPv6', async () => {
    const d = join(V6, 'd-nat6');
    const found = await audit({
      name: 'nat6',
      dumps: [join(d, 'after.txt'), join(d, 'after.ip6.txt')],
      net: [join(d, 'network.xml')],
    });
    expect(reach(found)).toEqual(['guest-reachable-from-outside warning nat6 ipv6 after.ip6.txt:27']);
    const f = found.find((x) => x.id === 'guest-reachable-from-outside')!;
    expect(f.location?.text).toBe('-A LIBVIRT_FWI -d 2001:db8:126::/64 -o virbr6 -j ACCEPT');
    expect(f.message).toContain('over IPv6');
    expect(f.message).toContain("libvirt routes a nat network's IPv6 rather than NAT it (no <nat ipv6='yes'/>)");
    expect(f.fix).toContain('`ip6tables -I FORWARD -o virbr6 -m conntrack --ctstate NEW -j REJECT`');
    // The ip6tables dump alone says the same: the IPv6 host is simulated on its own.
    expect(
      reach(await audit({ name: 'nat6 v6', dumps: [join(d, 'after.ip6.txt')], net: [join(d, 'network.xml')] })),
    ).toEqual(['guest-reachable-from-outside warning nat6 ipv6 after.ip6.txt:27']);
    // Before the start and after the destroy nothing is reachable.
    expect(
      reach(
        await audit({
          name: 'nat6 gone',
          dumps: [join(d, 'destroyed.txt'), join(d, 'destroyed.ip6.txt')],
          inactive: [join(d, 'network.xml')],
        }),
      ),
    ).toEqual([]);
  });

  it.each([
    ['e-three-dual-stack', 'after.txt', 'after.ip6.txt', [31, 28, 30]],
    ['f-three-dual-stack-legacy', 'after.legacy.txt', 'after.legacy6.txt', [46, 38, 40]],
  ] as const)(
    '%s (nat6, route6, isolated6): a verdict per family for each network and pair',
    async (dir, v4, v6, [route4, route6, nat6]) => {
      const found = await audit({ name: dir, dumps: [join(V6, dir, v4), join(V6, dir, v6)], net: three(dir) });
      expect(reach(found)).toEqual([
        // nat6: reachable from outside over IPv6 only; its guests reach route6's by route6's design, in both families.
        `guest-reachable-from-outside warning nat6 ipv6 ${v6}:${nat6}`,
        `networks-can-reach-each-other info nat6 ipv4 ${v4}:${route4}`,
        `networks-can-reach-each-other info nat6 ipv6 ${v6}:${route6}`,
        // route6's guests reach nat6's over IPv6 (nat6's routed IPv6 accepts anyone): a warning, nat6 is meant to be
        // closed.
        `networks-can-reach-each-other warning route6 ipv6 ${v6}:${nat6}`,
        `guest-reachable-from-outside info route6 ipv4 ${v4}:${route4}`,
        `guest-reachable-from-outside info route6 ipv6 ${v6}:${route6}`,
        // isolated6: closed both ways in both families; libvirt 9.0's dnsmasq refuses outside names (no-resolv).
      ]);
      const text = (
        await runCli(['audit', join(V6, dir, v4), join(V6, dir, v6), ...three(dir).flatMap((n) => ['--net', n])])
      ).stdout;
      expect(text).toContain(
        'outside hosts can start connections to guests of route6 (virbr7, 192.168.127.0/24, 2001:db8:127::/64) over IPv4',
      );
      expect(text).toContain(
        'outside hosts can start connections to guests of route6 (virbr7, 192.168.127.0/24, 2001:db8:127::/64) over IPv6',
      );
    },
  );

  it('networks inferred from the dumps alone: the same verdicts, by bridge', async () => {
    const dir = join(V6, 'e-three-dual-stack');
    const found = await audit({ name: 'inferred', dumps: [join(dir, 'after.txt'), join(dir, 'after.ip6.txt')] });
    expect(reach(found).filter((f) => f.startsWith('guest-reachable'))).toEqual([
      'guest-reachable-from-outside info virbr7 ipv4 after.txt:31',
      'guest-reachable-from-outside info virbr7 ipv6 after.ip6.txt:28',
      'guest-reachable-from-outside warning virbr6 ipv6 after.ip6.txt:30',
    ]);
  });

  it('iptables-save alone of a dual-stack host: the IPv6 side is said to be unchecked (info), not passed as clean', async () => {
    const d = join(V6, 'd-nat6');
    const found = await audit({ name: 'v4 only', dumps: [join(d, 'after.txt')], net: [join(d, 'network.xml')] });
    expect(reach(found)).toEqual(['guest-reachable-from-outside info nat6 ipv6 network.xml:1']);
    expect(found.find((f) => f.id === 'guest-reachable-from-outside')!.message).toBe(
      "the IPv6 side of nat6 (virbr6, 192.168.126.0/24, 2001:db8:126::/64) was not checked: no ip6tables-save was given, and libvirt keeps a network's IPv6 rules there — a nat network's IPv6 is routed, not NATed, so outside hosts with a route to 2001:db8:126::/64 may reach its guests",
    );
  });

  it("libvirt's nftables backend: table ip6 libvirt_network accepts every packet to nat6's prefix (nft's listing, read on one engine)", async () => {
    const found = await audit({
      name: 'nft',
      dumps: [],
      nft: join(V6, 'nft', 'nat6.listed.txt'),
      net: [join(V6, 'd-nat6', 'network.xml')],
    });
    expect(reach(found)).toEqual(['guest-reachable-from-outside warning nat6 ipv6 nat6.listed.txt:46']);
    expect(found[0]!.message).toContain(
      'accepted by table ip6 libvirt_network, chain guest_input, rule `ip6 daddr 2001:db8:126::/64 oif "virbr6"',
    );
  });

  it('JSON says the family of each reachability finding', async () => {
    const dir = join(V6, 'd-nat6');
    const r = JSON.parse(
      (
        await runCli([
          'audit',
          join(dir, 'after.txt'),
          join(dir, 'after.ip6.txt'),
          '--net',
          join(dir, 'network.xml'),
          '--format',
          'json',
        ])
      ).stdout,
    ) as { findings: Array<{ id: string; family?: string }> };
    expect(r.findings.map((f) => [f.id, f.family ?? null])).toEqual([
      ['guest-reachable-from-outside', 'ipv6'],
      ['forward-policy-accept-with-ip-forward', 'ipv4'],
      ['forward-policy-accept-with-ip-forward', 'ipv6'],
    ]);
  });
});

describe('IPv6: port-forward-never-reaches-guest', () => {
  it("an ip6tables DNAT whose FORWARD accept sits below libvirt's jumps (lab query 5's mistake over IPv6): found, fixed with ip6tables", async () => {
    const dir = join(REPO_CORPUS, 'audit', 'ipv6');
    const found = await audit({
      name: 'pf6',
      dumps: [join(dir, 'port-forward6.ip6.save')],
      net: [join(dir, 'natted6-nat.xml')],
    });
    expect(found.map((f) => `${f.id} ${f.family ?? '-'} ${f.location?.line}`)).toEqual([
      // the appended accept itself can never match (libvirt's REJECT decides first), as in IPv4's query 5
      'shadowed-rule - 27',
      'port-forward-never-reaches-guest ipv6 46',
      'forward-policy-accept-with-ip-forward ipv6 15',
    ]);
    expect(found[0]!.fix).toContain(
      '`ip6tables -t filter -D FORWARD -d 2001:db8:126::10/128 -o virbr6 -p tcp -m tcp --dport 80 -j ACCEPT`, then add it back with `-I FORWARD 1`',
    );
    const forward = found.find((f) => f.id === 'port-forward-never-reaches-guest')!;
    expect(forward.message).toContain(
      'sends tcp 8080 on 2001:db8:2::15 to 2001:db8:126::10 (natted6nat (virbr6, 192.168.126.0/24, 2001:db8:126::/64)) over IPv6',
    );
    expect(forward.message).toContain(
      'line 27 `-A FORWARD -d 2001:db8:126::10/128 -o virbr6 -p tcp -m tcp --dport 80 -j ACCEPT` would accept it but comes after it in LIBVIRT_FWI',
    );
    expect(forward.fix).toContain(
      '`ip6tables -t filter -D FORWARD -d 2001:db8:126::10/128 -o virbr6 -p tcp -m tcp --dport 80 -j ACCEPT`, then `ip6tables -t filter -I FORWARD 1 -d 2001:db8:126::10/128',
    );
  });
});

describe('IPv6: dns-on-isolated-network per family', () => {
  it('libvirt 0.9.0 (before no-resolv) forwards outside names on both families: one finding each, at its own dump', async () => {
    const xml = join(V6, 'e-three-dual-stack', 'network3.xml');
    const dumps = ['isolated6-0.9.0.save', 'isolated6-0.9.0.ip6.save'].map((f) =>
      join(REPO_CORPUS, 'audit', 'ipv6', f),
    );
    const found = await audit({ name: 'dns', dumps, net: [xml], libvirtVersion: '0.9.0' });
    const dns = found.filter((f) => f.id === 'dns-on-isolated-network');
    expect(dns.map((f) => `${f.family} ${f.location?.file.split('/').pop()}:${f.location?.line}`)).toEqual([
      'ipv4 isolated6-0.9.0.save:15',
      'ipv6 isolated6-0.9.0.ip6.save:6',
    ]);
    expect(dns[1]!.message).toContain("reach the host's DNS on virbr8 over IPv6");
    expect(dns[1]!.fix).toContain('`ip6tables -I INPUT -i virbr8 -p udp --dport 53 -j REJECT`');
    expect(dns[1]!.fix).toContain('(DHCPv6, udp 547, keeps working)');
  });
});

describeCorpus("Xen: the scripts' own rules, captured", () => {
  const xen = (capture: string, step: string) =>
    audit({
      name: capture,
      dumps: [join(XEN, capture, `${step}.save`)],
      net: [join(XEN_SETUP, capture, `${step}.xen`)],
    });

  it('vif-bridge (HEAD): guests on the LAN are reachable by design (info), through the physdev-out accept', async () => {
    const found = await xen('head-vif-bridge-ip', 'online-vif1.0-vif2.0');
    expect(reach(found)).toEqual(['guest-reachable-from-outside info xen-bridge ipv4 online-vif1.0-vif2.0.save:8']);
    const f = found.find((x) => x.id === 'guest-reachable-from-outside')!;
    expect(f.message).toContain(
      'reaches dom1 on vif1.0, accepted by line 8 `-A FORWARD -m physdev --physdev-out vif1.0 --physdev-is-bridged -j ACCEPT`',
    );
    expect(f.fix).toContain('--physdev-out vif1.0');
  });

  it('vif-nat: network-nat stops nothing coming in; the FORWARD policy lets outside reach the guest (warning)', async () => {
    const found = await xen('head-vif-nat-ip', 'online');
    expect(reach(found)).toEqual(['guest-reachable-from-outside warning xen-nat ipv4 online.xen:2']);
    const f = found.find((x) => x.id === 'guest-reachable-from-outside')!;
    expect(f.message).toContain('reaches dom5.1 on vif5.1, accepted by the FORWARD policy');
    expect(f.fix).toContain('`iptables -I FORWARD -o vif5.1 -m conntrack --ctstate NEW -j REJECT`');
  });

  it("vif-nat online without network-nat's MASQUERADE: missing-rule's fix is Xen's command, not virsh", async () => {
    const missing = (await xen('head-vif-nat-ip', 'online')).filter((f) => f.id === 'missing-rule');
    expect(missing.map((f) => f.fix)).toEqual([
      "add it as Xen's script does: `iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE` (the network-nat script adds it when it starts)",
    ]);
  });

  it('vif-route: routed guests are reachable by design (info)', async () => {
    expect(reach(await xen('head-vif-route', 'online'))).toEqual([
      'guest-reachable-from-outside info xen-route ipv4 online.xen:2',
    ]);
  });

  it('network-nat started with no guest online: nothing to reach', async () => {
    expect(reach(await xen('network-nat-4.4', 'start'))).toEqual([]);
  });
});

describe('Xen: the seed lab host with vm1–vm3 bridged on xenbr0 (section 0.4.5: Xen 3.x, libvirt 0.6.3)', () => {
  const SEED = join(REPO_CORPUS, 'seed-lab');
  const nets = ['default.xml', 'host-only.xml', 'natted.xml'].map((f) => join(SEED, f));
  const json = async (dump: string, more: string[]) =>
    JSON.parse(
      (await runCli(['audit', dump, ...[...nets, ...more].flatMap((n) => ['--net', n]), '--format', 'json'])).stdout,
    ) as {
      hosts: Array<{ eras: string[] }>;
      findings: Array<{
        id: string;
        severity: string;
        network: string;
        family?: string;
        message: string;
        fix: string;
        location: { line: number };
      }>;
    };

  it("the Xen era is fitted to the dump (vif-bridge's appended rules: Xen before 3.4), not taken as the default's missing and stale rules", async () => {
    const r = await json(join(SEED, 'xenbr0-host.save'), [join(SEED, 'xenbr0.xen')]);
    expect(r.hosts[0]!.eras).toEqual(['libvirt 0.6.3–0.8.2', 'xen 3.0.0–3.2']);
    expect(r.findings.map((f) => f.id)).not.toContain('missing-rule');
    expect(r.findings.map((f) => f.id)).not.toContain('stale-rules');
  });

  it("the libvirt findings stay those of lab-host.save; vm1's bridged traffic meets the host's REJECT before vif-bridge's accept", async () => {
    const r = await json(join(SEED, 'xenbr0-host.save'), [join(SEED, 'xenbr0.xen')]);
    const before = await json(join(SEED, 'lab-host.save'), []);
    const brief = (fs: typeof r.findings) => fs.map((f) => `${f.id} ${f.severity} ${f.network} ${f.location.line}`);
    expect(brief(r.findings.filter((f) => f.network !== 'xenbr0'))).toEqual(brief(before.findings));
    const xen = r.findings.filter((f) => f.network === 'xenbr0');
    expect(brief(xen)).toEqual(['shadowed-rule warning xenbr0 49']);
    expect(xen[0]!.message).toContain(
      "should let dom1's traffic bridged from vif1.0 to the LAN through, but line 48 `-A FORWARD -j REJECT --reject-with icmp-host-prohibited`",
    );
    expect(xen[0]!.message).toContain('vif-bridge appended it (Xen before 3.4 runs `iptables -A FORWARD`)');
    expect(xen[0]!.message).toContain('net.bridge.bridge-nf-call-iptables=1');
    expect(xen[0]!.fix).toContain(
      '`iptables -I FORWARD -m physdev --physdev-is-bridged -j ACCEPT` (Xen guests on xenbr0',
    );
  });
});
