// audit on nftables hosts: the real libvirt 11.3 captures (../shared/corpus/nft-real) with their
// network XMLs, the nft listing (text and JSON alike) and the host's iptables-save. Each gives only
// what the kernel showed there (truth.json): k's host firewall breaks DHCP, DNS and forwarding,
// a and b work. Native nft host firewalls (inet filter, policy drop) pass when they accept the
// bridges' DHCP and DNS and fail, naming table, chain and policy, when they do not.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { parseNftJson } from '../../grammar/nft-json.js';
import { parseNftText } from '../../grammar/nft.js';
import { runAudit, type AuditReport } from '../../src/audit/run.js';
import type { NftRuleset } from '../../src/model/nft.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { describeCorpus, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { runCli } from '../helpers/cli.js';
import { applyProgram, emptyHostState } from '../../src/engine/apply.js';
import { compile } from '../../src/engine/compile.js';
import { formatNftRuleset } from '../../src/write/nft.js';

const REAL = join(SHARED_CORPUS, 'nft-real');

async function audit(
  dir: string,
  nets: readonly string[],
  syntax: 'txt' | 'json',
  stem = 'after',
): Promise<AuditReport> {
  const base = join(REAL, dir);
  const nftFile = join(base, `${stem}.nft.${syntax}`);
  const text = readFileSync(nftFile, 'utf8');
  const nft = syntax === 'txt' ? parseNftText(text, { file: nftFile }) : parseNftJson(text, { file: nftFile });
  const ipt = readFileSync(join(base, `${stem}.iptables-save.txt`), 'utf8');
  const dumps = ipt.trim() === '' ? [] : [parseSave(ipt, { file: join(base, `${stem}.iptables-save.txt`) })];
  const running = nets.flatMap((f) => readNetworks(readFileSync(join(base, f), 'utf8'), f));
  return runAudit({ dumps, nft, running, inactive: [] });
}

/** What a finding says, without where the nft rule was read (text line or JSON path). */
const said = (r: AuditReport): string[] =>
  r.findings.map((f) => `${f.severity} ${f.id} ${f.network}: ${f.message.replace(/line \d+/g, 'line N')}`);

describeCorpus('audit of the nft-real captures', () => {
  it('k (an iptables-nft host firewall next to libvirt 11.3): host-firewall-blocks-network for DHCP, DNS and forwarding', async () => {
    const r = await audit('k-iptables-hostfw-plus-nft', ['network1.xml', 'network2.xml'], 'txt');
    const blocked = r.findings.filter((f) => f.id === 'host-firewall-blocks-network');
    expect(
      blocked
        .map((f) => `${f.network}: ${/(DHCP requests|DNS queries|connections to the outside)/.exec(f.message)?.[1]}`)
        .sort(),
    ).toEqual([
      'default: DHCP requests',
      'default: DNS queries',
      'default: connections to the outside',
      'host-only: DHCP requests',
      'host-only: DNS queries',
    ]);
    expect(blocked.every((f) => f.severity === 'error' && f.message.includes('icmp-host-prohibited'))).toBe(true);
    const forward = blocked.find((f) => f.message.includes('outside'))!;
    expect(forward.message).toContain("an accept ends only that table's chain");
    expect(forward.location?.text).toBe('-A FORWARD -j REJECT --reject-with icmp-host-prohibited');
    expect(forward.fix).toContain('iptables -I FORWARD -i virbr0 -j ACCEPT');
    // libvirt's own rules are all there: nothing missing, nothing stale, nothing hidden.
    expect(r.findings.filter((f) => f.id !== 'host-firewall-blocks-network')).toEqual([]);
  });
  for (const [dir, nets] of [
    ['a-default-nat', ['network.xml']],
    ['b-host-only', ['network.xml']],
    ['k-iptables-hostfw-plus-nft', ['network1.xml', 'network2.xml']],
  ] as const) {
    it(`${dir}: nft text and nft JSON give the same findings`, async () => {
      expect(said(await audit(dir, nets, 'json'))).toEqual(said(await audit(dir, nets, 'txt')));
    });
  }
  it('a (the default NAT network): no error, nothing blocked, no rule missing', async () => {
    const r = await audit('a-default-nat', ['network.xml'], 'txt');
    expect(r.flavor.flavor).toBe('libvirt-nft');
    expect(
      r.findings.filter((f) => f.severity === 'error' || f.id === 'rules-not-in-dump' || f.id === 'missing-rule'),
    ).toEqual([]);
  });
  it('b (host-only): no error, DHCP and DNS not blocked', async () => {
    const r = await audit('b-host-only', ['network.xml'], 'txt');
    expect(
      r.findings.filter(
        (f) => f.severity === 'error' || f.id === 'host-firewall-blocks-network' || f.id === 'rules-not-in-dump',
      ),
    ).toEqual([]);
  });
  it('a network stopped while its rules stayed: stale-rules names them; one flushed: missing-rule', async () => {
    const base = join(REAL, 'k-iptables-hostfw-plus-nft');
    const nft = parseNftText(readFileSync(join(base, 'after.nft.txt'), 'utf8'), { file: 'after.nft.txt' });
    const [def, hostOnly] = ['network1.xml', 'network2.xml'].map(
      (f) => readNetworks(readFileSync(join(base, f), 'utf8'), f)[0]!,
    );
    const stopped = await runAudit({ dumps: [], nft, running: [def!], inactive: [hostOnly!] });
    const stale = stopped.findings.filter((f) => f.id === 'stale-rules');
    expect(stale.length).toBe(3);
    expect(
      stale.every(
        (f) =>
          f.network === 'host-only' &&
          f.message.includes('virbr1') &&
          f.fix.includes('nft delete rule ip libvirt_network'),
      ),
    ).toBe(true);
    const flushed: NftRuleset = {
      ...nft,
      tables: nft.tables.map((t) => ({
        ...t,
        chains: t.chains.map((c) => (c.name === 'guest_nat' ? { ...c, rules: [] } : c)),
      })),
    };
    const missing = (
      await runAudit({ dumps: [], nft: flushed, running: [def!, hostOnly!], inactive: [] })
    ).findings.filter((f) => f.id === 'missing-rule');
    expect(missing.length).toBe(5);
    expect(missing.every((f) => f.network === 'default' && f.message.includes('guest_nat'))).toBe(true);
  });
});

describe('host-firewall-blocks-network on a native nft host firewall', () => {
  const net = readNetworks(
    `<network><name>default</name><forward mode='nat'/><bridge name='virbr0'/>
    <ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>`,
    'default.xml',
  );
  const libvirt = `table ip libvirt_network {
	chain forward {
		type filter hook forward priority filter; policy accept;
		counter jump guest_cross
		counter jump guest_input
		counter jump guest_output
	}
	chain guest_output {
		ip saddr 192.168.122.0/24 iif "virbr0" counter accept
		iif "virbr0" counter reject
	}
	chain guest_input {
		oif "virbr0" ip daddr 192.168.122.0/24 ct state established,related counter accept
		oif "virbr0" counter reject
	}
	chain guest_cross {
		iif "virbr0" oif "virbr0" counter accept
	}
	chain guest_nat {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 192.168.122.0/24 ip daddr 224.0.0.0/24 counter return
		ip saddr 192.168.122.0/24 ip daddr 255.255.255.255 counter return
		meta l4proto tcp ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade to :1024-65535
		meta l4proto udp ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade to :1024-65535
		ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade
	}
}
`;
  const hostFw = (input: string, forward: string): string => `table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif "lo" accept
		tcp dport 22 accept
${input}	}
	chain forward {
		type filter hook forward priority filter; policy drop;
${forward}	}
}
`;
  const run = (fw: string) =>
    runAudit({ dumps: [], nft: parseNftText(fw + libvirt, { file: 'host.nft' }), running: net, inactive: [] });
  it('fails: input and forward policy drop, nothing for the bridge — each named with its table, chain and policy', async () => {
    const r = await run(hostFw('', ''));
    const blocked = r.findings.filter((f) => f.id === 'host-firewall-blocks-network');
    expect(
      blocked.map((f) => /(DHCP requests|DNS queries|connections to the outside)/.exec(f.message)?.[1]).sort(),
    ).toEqual(['DHCP requests', 'DNS queries', 'connections to the outside']);
    const dhcp = blocked.find((f) => f.message.includes('DHCP requests'))!;
    expect(dhcp.message).toContain('table inet filter, chain input, by its policy (policy drop)');
    expect(dhcp.fix).toContain('nft insert rule inet filter input iifname "virbr0" udp dport 67 accept');
    expect(dhcp.location).toMatchObject({ file: 'host.nft', line: 2 });
  });
  it('passes: the bridge accepted for DHCP, DNS and forwarding', async () => {
    const r = await run(
      hostFw(
        '\t\tiifname "virbr0" udp dport { 53, 67 } accept\n\t\tiifname "virbr0" tcp dport 53 accept\n',
        '\t\tiifname "virbr0" accept\n\t\tct state established,related accept\n',
      ),
    );
    expect(r.findings.filter((f) => f.id === 'host-firewall-blocks-network')).toEqual([]);
  });
  it('an explicit drop rule is named as the rule that decides', async () => {
    const r = await run(
      hostFw(
        '\t\tiifname "virbr0" udp dport 53 accept\n\t\tiifname "virbr0" tcp dport 53 accept\n\t\tudp dport 67 drop\n',
        '\t\tiifname "virbr0" accept\n\t\tct state established,related accept\n',
      ),
    );
    const blocked = r.findings.filter((f) => f.id === 'host-firewall-blocks-network');
    expect(blocked.length).toBe(1);
    expect(blocked[0]!.message).toContain('table inet filter, chain input, rule `udp dport 67 drop`');
    expect(blocked[0]!.location).toMatchObject({ file: 'host.nft', line: 9 });
  });
});

// #12's examples, "tried as a new user would" on the real libvirt 11.3 captures: each now gives
// the answer the kernel's truth supports, in words true for nftables.
describeCorpus("#12's examples on the nft-real captures", () => {
  const A = join(REAL, 'a-default-nat');
  const B = join(REAL, 'b-host-only');
  const K = join(REAL, 'k-iptables-hostfw-plus-nft');
  it('`nft list ruleset | virtables audit -` and the -j JSON form: read as nft, libvirt-nft detected, nothing blocked', async () => {
    for (const file of ['after.nft.txt', 'after.nft.json']) {
      const r = await runCli(
        ['audit', '-', '--net', join(A, 'network.xml'), '--format', 'json'],
        readFileSync(join(A, file), 'utf8'),
      );
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.hosts[0].flavor.flavor).toBe('libvirt-nft');
      expect(j.findings.filter((f: { severity: string }) => f.severity !== 'info')).toEqual([]);
    }
  });
  it('the empty iptables-save of an nft host with --net: rules-not-in-dump says the file is empty and where the rules are', async () => {
    const r = await runCli(['audit', join(A, 'after.iptables-save.txt'), '--net', join(A, 'network.xml')]);
    expect(r.stdout).toContain(`virtables audit ${join(A, 'after.iptables-save.txt')}\n`);
    expect(r.stdout).toContain('rules-not-in-dump');
    expect(r.stdout).toContain(`${join(A, 'after.iptables-save.txt')} is empty (no iptables table at all)`);
    expect(r.stdout).toContain('give `nft list ruleset`');
    expect(r.stdout).not.toContain('no findings');
  });
  it("the same with the nft listing too: libvirt's table is read, nothing missing, rules-not-in-dump silent", async () => {
    const r = await runCli([
      'audit',
      join(A, 'after.iptables-save.txt'),
      join(A, 'after.nft.txt'),
      '--net',
      join(A, 'network.xml'),
      '--format',
      'json',
    ]);
    const ids = JSON.parse(r.stdout).findings.map((f: { id: string }) => f.id);
    expect(ids).not.toContain('rules-not-in-dump');
    expect(ids).not.toContain('missing-rule');
  });
  it('k: the host firewall breaks DHCP, DNS and forwarding (error, exit 1), and no false dns-on-isolated-network', async () => {
    const r = await runCli([
      'audit',
      join(K, 'after.iptables-save.txt'),
      join(K, 'after.nft.txt'),
      '--net',
      join(K, 'network1.xml'),
      '--net',
      join(K, 'network2.xml'),
      '--format',
      'json',
    ]);
    expect(r.code).toBe(1);
    const ids = new Set(JSON.parse(r.stdout).findings.map((f: { id: string }) => f.id));
    expect(ids.has('host-firewall-blocks-network')).toBe(true);
    expect(ids.has('dns-on-isolated-network')).toBe(false);
  });
  it("b: the isolated network's summary says libvirt's nft table has no DHCP/DNS rules (the host's input chains decide)", async () => {
    const r = await audit('b-host-only', ['network.xml'], 'txt');
    const summary = r.networks.find((n) => n.name === 'host-only')!.summary;
    expect(summary).toContain("libvirt's nft table has no rules for their DHCP and DNS to the host");
    expect(summary).not.toContain('(DHCP, DNS)');
    const explained = await runCli(['explain', join(B, 'after.nft.txt'), '--net', join(B, 'network.xml')]);
    expect(explained.stdout.split('\n')[0]).toContain("libvirt's nft table has no rules for their DHCP and DNS");
  });
});

// The other checks on nft hosts judge libvirt's nft table and word it for nft: no iptables chain
// names or commands where the host has no iptables rules.
describe('checks on an nft host, worded for nft', () => {
  const AUDIT_DIR = join(REPO_CORPUS, 'audit');
  const SEED_DIR = join(REPO_CORPUS, 'seed-lab');
  const nets = (...files: string[]) => files.flatMap((f) => readNetworks(readFileSync(f, 'utf8'), f));
  const natted = join(SEED_DIR, 'natted.xml');
  const routed = join(AUDIT_DIR, 'routed.xml');
  const nftOf = (networks: ReturnType<typeof nets>, extra = ''): NftRuleset =>
    parseNftText(
      extra + formatNftRuleset(applyProgram(compile(networks, { flavor: 'libvirt-nft' }), emptyHostState()).nft),
      { file: 'host.nft' },
    );
  const iptablesWords = /\biptables\b|FORWARD policy|INPUT policy|-j ACCEPT|-j REJECT|nat POSTROUTING/;
  it("a NAT and a routed network: routed guests reachable (info) and the NAT guests reach them, by libvirt's guest_input accept", async () => {
    const n = nets(natted, routed);
    const r = await runAudit({ dumps: [], nft: nftOf(n), running: n, inactive: [] });
    const reach = r.findings.filter((f) => f.id === 'networks-can-reach-each-other');
    expect(reach.map((f) => `${f.severity} ${f.network}`)).toEqual(['info natted']);
    expect(reach[0]!.message).toContain('accepted by table ip libvirt_network, chain guest_input');
    expect(reach[0]!.fix).toContain('nft add rule inet filter forward iifname "virbr2" oifname "virbr5" reject');
    const outside = r.findings.filter((f) => f.id === 'guest-reachable-from-outside');
    expect(outside.map((f) => `${f.severity} ${f.network}`)).toEqual(['info routed']);
    for (const f of r.findings) expect(`${f.message} ${f.fix}`).not.toMatch(iptablesWords);
  });
  it("two NAT networks and an isolated one: nobody reaches anybody (libvirt's guest_input rejects strangers)", async () => {
    const n = nets(natted, join(SEED_DIR, 'natntw.xml'), join(SEED_DIR, 'host-only.xml'));
    const r = await runAudit({ dumps: [], nft: nftOf(n), running: n, inactive: [] });
    expect(
      r.findings.filter((f) => f.id === 'networks-can-reach-each-other' || f.id === 'guest-reachable-from-outside'),
    ).toEqual([]);
  });
  it("an accept inserted at the top of libvirt's guest_input lets natntw reach natted: a warning naming that rule", async () => {
    const n = nets(natted, join(SEED_DIR, 'natntw.xml'));
    const text = formatNftRuleset(applyProgram(compile(n, { flavor: 'libvirt-nft' }), emptyHostState()).nft).replace(
      /(chain guest_input \{\n)/,
      '$1\t\tiif "virbr1" oif "virbr2" accept\n',
    );
    const r = await runAudit({ dumps: [], nft: parseNftText(text, { file: 'host.nft' }), running: n, inactive: [] });
    const reach = r.findings.filter((f) => f.id === 'networks-can-reach-each-other');
    expect(reach.map((f) => `${f.severity} ${f.network}`)).toEqual(['warning natntw']);
    expect(reach[0]!.message).toContain('rule `iif "virbr1" oif "virbr2" accept`');
  });
  it("masquerade-missing on nft: libvirt's guest_nat flushed, worded for nft with an nft fix", async () => {
    const n = nets(natted);
    const nft = nftOf(n);
    const flushed: NftRuleset = {
      ...nft,
      tables: nft.tables.map((t) => ({
        ...t,
        chains: t.chains.map((c) => (c.name === 'guest_nat' ? { ...c, rules: [] } : c)),
      })),
    };
    const r = await runAudit({ dumps: [], nft: flushed, running: n, inactive: [] });
    const m = r.findings.filter((f) => f.id === 'masquerade-missing');
    expect(m.length).toBe(1);
    expect(m[0]!.message).toContain('no masquerade or snat in a nat chain on the postrouting hook');
    expect(m[0]!.fix).toContain(
      'nft add rule ip libvirt_network guest_nat ip saddr 192.168.124.0/24 ip daddr != 192.168.124.0/24 masquerade',
    );
  });
});
