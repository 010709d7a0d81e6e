// audit of port forwards written only in nft (corpus/nft-forwards: listings real nft printed; the
// kernel's verdict on each is test/kernel/nft-forwards.test.ts). The forward is found in the host's
// `table ip nat`, probed through the one engine, and the finding names what decides: libvirt's
// guest_input reject, a host `inet filter` policy drop, or the accept that lets it through.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNftJson } from '../../grammar/nft-json.js';
import { parseNftText } from '../../grammar/nft.js';
import { runAudit, type AuditReport } from '../../src/audit/run.js';
import type { NftRuleset } from '../../src/model/nft.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { nftPortForwards } from '../../src/sim/nft-dnat.js';
import { describeCorpus, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';

const DIR = join(REPO_CORPUS, 'nft-forwards');
const NAT_XML = join(SHARED_CORPUS, 'nft-real', 'a-default-nat', 'network.xml');
const ROUTED_XML = join(REPO_CORPUS, 'audit', 'routed.xml');

function listing(stem: string, syntax: 'txt' | 'json'): NftRuleset {
  const file = join(DIR, `${stem}.listed.${syntax}`);
  const text = readFileSync(file, 'utf8');
  return syntax === 'txt' ? parseNftText(text, { file }) : parseNftJson(text, { file });
}

async function audit(stem: string, xml: string, syntax: 'txt' | 'json' = 'txt'): Promise<AuditReport> {
  return runAudit({
    dumps: [],
    nft: listing(stem, syntax),
    running: readNetworks(readFileSync(xml, 'utf8'), xml),
    inactive: [],
  });
}

const forwardFindings = (r: AuditReport) => r.findings.filter((f) => f.message.startsWith('the port forward '));

describe('nft port forwards: found in the nft model', () => {
  it('a dnat in a nat prerouting chain, reached through a jump and a verdict map; none from other hooks or dormant tables', () => {
    const nft = parseNftText(
      `table ip nat {
\tchain prerouting {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tiifname "eth0" jump forwards
\t\tiifname vmap { "eth1" : jump more }
\t}
\tchain forwards {
\t\tip daddr 198.51.100.10 tcp dport { 2222, 2223 } dnat to 192.168.122.10:22
\t}
\tchain more {
\t\tmeta l4proto udp th dport 5353 dnat to 192.168.122.11
\t}
\tchain output {
\t\ttype nat hook output priority -100; policy accept;
\t\ttcp dport 8080 dnat to 192.168.122.12:80
\t}
}
table ip quiet {
\tflags dormant
\tchain prerouting {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\ttcp dport 9 dnat to 192.168.122.13
\t}
}
`,
      { file: 'forwards.nft' },
    );
    const got = nftPortForwards(nft, 4).map((f) => ({
      proto: f.proto,
      dport: f.dport,
      address: f.address,
      inIface: f.inIface,
      to: f.to.value,
      toPort: f.toPort,
    }));
    expect(got).toEqual([
      { proto: 'tcp', dport: 2222, address: '198.51.100.10', inIface: null, to: 0xc0a87a0an, toPort: 22 },
      { proto: 'udp', dport: 5353, address: null, inIface: null, to: 0xc0a87a0bn, toPort: null },
    ]);
  });
});

describeCorpus('nft port forwards: audited', () => {
  it("libvirt's guest_input reject defeats a forward to a NAT guest: named, with an accept in libvirt's own chain as the fix", async () => {
    const [f, ...rest] = forwardFindings(await audit('nat-forward', NAT_XML));
    expect(rest).toEqual([]);
    expect(f!.id).toBe('port-forward-never-reaches-guest');
    expect(f!.message).toContain(
      'table ip nat, chain prerouting, rule `iifname "eth0" tcp dport 2222 dnat to 192.168.122.10:22`',
    );
    expect(f!.message).toContain(
      'table ip libvirt_network, chain guest_input, rule `oif "virbr0" counter packets 0 bytes 0 reject` (libvirt) rejects',
    );
    // The fix the kernel test proves (nat-forward-fixed): the guest's own port, after the DNAT.
    expect(f!.fix).toContain(
      '`nft insert rule ip libvirt_network guest_input oifname "virbr0" ip daddr 192.168.122.10 tcp dport 22 ct status dnat accept`',
    );
    expect(f!.location).toMatchObject({ line: 56, text: 'iifname "eth0" tcp dport 2222 dnat to 192.168.122.10:22' });
  });
  it('with that accept in guest_input the forward reaches the guest: reported as an exposure, forwarded by the accept', async () => {
    const [f, ...rest] = forwardFindings(await audit('nat-forward-fixed', NAT_XML));
    expect(rest).toEqual([]);
    expect(f!.id).toBe('guest-reachable-from-outside');
    expect(f!.message).toContain(
      'forwarded by table ip libvirt_network, chain guest_input, rule `oifname "virbr0" ip daddr 192.168.122.10 tcp dport 22 ct status dnat accept`',
    );
  });
  it('a forward to a routed guest works (info: the mode means it); with a host inet filter policy drop it does not', async () => {
    const [ok, ...none] = forwardFindings(await audit('routed-forward', ROUTED_XML));
    expect(none).toEqual([]);
    expect([ok!.id, ok!.severity]).toEqual(['guest-reachable-from-outside', 'info']);
    const [blocked, ...more] = forwardFindings(await audit('routed-forward-hostfw', ROUTED_XML));
    expect(more).toEqual([]);
    expect(blocked!.id).toBe('port-forward-never-reaches-guest');
    expect(blocked!.message).toContain(
      "table inet filter, chain forward, by its policy drop (the host's own rules) drops the forwarded packet",
    );
    expect(blocked!.fix).toContain(
      '`nft insert rule inet filter forward oifname "virbr5" ip daddr 192.168.150.10 tcp dport 80 ct status dnat accept`',
    );
  });
  for (const [stem, xml] of [
    ['nat-forward', NAT_XML],
    ['nat-forward-fixed', NAT_XML],
    ['routed-forward', ROUTED_XML],
    ['routed-forward-hostfw', ROUTED_XML],
  ] as const) {
    it(`${stem}: nft text and JSON give the same findings`, async () => {
      const words = (r: AuditReport) => r.findings.map((f) => `${f.id} ${f.message.replace(/line \d+/g, 'line N')}`);
      expect(words(await audit(stem, xml, 'json'))).toEqual(words(await audit(stem, xml, 'txt')));
    });
  }
  it('a forward the simulator cannot follow (dnat through a map) is said to be unknown, never passed over', async () => {
    const nft = listing('nat-forward', 'txt');
    const mapped = parseNftText(
      readFileSync(join(DIR, 'nat-forward.listed.txt'), 'utf8').replace(
        'iifname "eth0" tcp dport 2222 dnat to 192.168.122.10:22',
        'iifname "eth0" dnat to tcp dport map { 2222 : 192.168.122.10 }',
      ),
      { file: nft.file },
    );
    const [f, ...rest] = forwardFindings(
      await runAudit({
        dumps: [],
        nft: mapped,
        running: readNetworks(readFileSync(NAT_XML, 'utf8'), NAT_XML),
        inactive: [],
      }),
    );
    expect(rest).toEqual([]);
    expect([f!.id, f!.severity]).toEqual(['port-forward-never-reaches-guest', 'info']);
    expect(f!.message).toContain('is unknown because');
    expect(f!.message).toContain('map');
  });
});
