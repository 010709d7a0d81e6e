// `virtables trace` on nftables hosts, as a user runs it: the real libvirt 11.3 captures'
// `nft list ruleset` (text and -j JSON), alone or with the host's iptables-save. The two
// complaints are pinned here: outside → guest on a NAT network is refused (as the kernel did, not
// DELIVERED), and the guest's connection out arrives masqueraded (10.0.2.15, not its own address).

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeCorpus, SHARED_CORPUS } from '../helpers/env.js';
import { runCli } from '../helpers/cli.js';

const A = join(SHARED_CORPUS, 'nft-real', 'a-default-nat');
const K = join(SHARED_CORPUS, 'nft-real', 'k-iptables-hostfw-plus-nft');

describeCorpus('virtables trace on nftables hosts (nft-real)', () => {
  for (const file of ['after.nft.txt', 'after.nft.json']) {
    it(`${file}: outside → guest is REJECTED by libvirt's guest_input, as the kernel refused it`, async () => {
      const r = await runCli([
        'trace',
        join(A, file),
        '--net',
        join(A, 'network.xml'),
        '--from',
        'outside',
        '--to',
        '192.168.122.10',
        '--dport',
        '22',
        '--format',
        'json',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.verdict).toBe('rejected');
      expect(j.reason).toContain('ip libvirt_network guest_input');
      expect(j.path.at(-1)).toMatchObject({ table: 'ip libvirt_network', chain: 'guest_input', action: 'reject' });
    });
    it(`${file}: guest → outside arrives as the host's address (masqueraded by guest_nat)`, async () => {
      const r = await runCli([
        'trace',
        join(A, file),
        '--net',
        join(A, 'network.xml'),
        '--guest',
        'g1@virbr0=192.168.122.10',
        '--from',
        'g1',
        '--to',
        'outside',
        '--format',
        'json',
      ]);
      const j = JSON.parse(r.stdout);
      expect(j.verdict).toBe('delivered');
      expect(j.translated.src).toBe('10.0.2.15');
      expect(j.reply.verdict).toBe('delivered');
      expect(j.path.some((s: { chain: string; action: string }) => s.chain === 'guest_nat' && s.action === 'nat')).toBe(
        true,
      );
    });
  }
  it("the host's iptables-save and nft listing together: the host's FORWARD REJECT decides (case k), and the order is said", async () => {
    const base = [
      join(K, 'after.iptables-save.txt'),
      join(K, 'after.nft.txt'),
      '--net',
      join(K, 'network1.xml'),
      '--net',
      join(K, 'network2.xml'),
      '--guest',
      'g1@virbr0=192.168.122.10',
    ];
    const out = JSON.parse(
      (await runCli(['trace', ...base, '--from', 'g1', '--to', 'outside', '--format', 'json'])).stdout,
    );
    expect(out.verdict).toBe('rejected');
    expect(out.reason).toBe('rejected in filter FORWARD (rule at line 11) with icmp-host-prohibited');
    const dns = JSON.parse(
      (
        await runCli([
          'trace',
          ...base,
          '--from',
          'g1',
          '--to',
          'host',
          '--proto',
          'udp',
          '--dport',
          '53',
          '--format',
          'json',
        ])
      ).stdout,
    );
    expect(dns.verdict).toBe('rejected');
    const inbound = await runCli(['trace', ...base, '--from', 'outside', '--to', 'g1', '--dport', '22']);
    expect(inbound.stdout).toContain('REJECTED — rejected in ip libvirt_network guest_input');
    expect(inbound.stdout).toContain('the later-created table runs first');
  });
  it('the matrix on an nft host', async () => {
    const r = await runCli([
      'trace',
      join(A, 'after.nft.txt'),
      '--net',
      join(A, 'network.xml'),
      '--matrix',
      '--format',
      'json',
    ]);
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout);
    const cell = m.cells.find(
      (c: { from: string; to: string; service: string }) =>
        c.from === 'outside' && c.to !== 'host' && c.service === 'tcp/22',
    );
    expect(cell.request).toBe('rejected');
  });
});
