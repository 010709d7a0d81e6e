// DNS on an isolated network, from the real thing: Debian's libvirtd 9.0 with its dnsmasq, in a
// throw-away network+mount namespace (test/kernel/live-libvirtd.sh), runs the shared corpus's
// host-only and natted networks; a guest namespace on each bridge asks the host's dnsmasq for an
// outside name. On the isolated network dnsmasq has no-resolv and answers REFUSED; on the NAT
// network it tries the host's resolvers instead. virtables, given that host's iptables-save and
// live network XML, must say the same: no dns-on-isolated-network finding, and a sheet's
// `vm1 -> outside dns : blocked` passes — while the seed lab's libvirt 0.6.3 still leaks.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { describeLibvirt, REPO, REPO_CORPUS, SHARED_CORPUS, STRICT, corpusSkipReason } from '../helpers/env.js';

const REAL = join(SHARED_CORPUS, 'libvirt-real');
const PROBE = join(REPO, 'test', 'helpers', 'dns-probe.mjs');

describeLibvirt('DNS on an isolated network: real libvirtd 9.0 and dnsmasq in a namespace', () => {
  let out = '';
  let harness = '';
  const read = (f: string) => readFileSync(join(out, f), 'utf8');

  beforeAll(() => {
    if (corpusSkipReason() && !STRICT) return;
    out = mkdtempSync(join(tmpdir(), 'virtables-dns-'));
    // A guest per bridge: a veth into its own namespace, an address, one question for an outside name.
    const guest = (n: number, bridge: string, addr: string, server: string) => [
      `ip netns add g${n}`,
      `ip link add gv${n} type veth peer name gp${n}`,
      `ip link set gp${n} master ${bridge} up`,
      `ip link set gv${n} netns g${n}`,
      `ip -n g${n} link set lo up`,
      `ip -n g${n} addr add ${addr}/24 dev gv${n}`,
      `ip -n g${n} link set gv${n} up`,
      'sleep 2',
      `ip netns exec g${n} ${process.execPath} ${PROBE} ${server} www.example.com >"$OUT/${bridge}.dns" 2>&1`,
    ];
    const script = [
      ...guest(1, 'virbr1', '192.168.123.50', '192.168.123.1'),
      ...guest(2, 'virbr2', '192.168.124.50', '192.168.124.1'),
      'iptables-save >"$OUT/host.save"',
      'virsh -q -c "network:///system?mode=legacy" net-dumpxml host-only >"$OUT/host-only.xml"',
      'cp /var/lib/libvirt/dnsmasq/host-only.conf "$OUT/dnsmasq-host-only.conf"',
    ].join('\n');
    writeFileSync(join(out, 'guests.sh'), script);
    const r = spawnSync(
      'timeout',
      [
        '120',
        'unshare',
        '-n',
        '-m',
        '--propagation',
        'private',
        '--fork',
        '--kill-child=TERM',
        join(REPO, 'test', 'kernel', 'live-libvirtd.sh'),
        'bash',
        '-e',
        join(out, 'guests.sh'),
      ],
      {
        env: {
          ...process.env,
          OUT: out,
          START: `${join(REAL, 'b-host-only', 'network.xml')} ${join(REAL, 'c-natted', 'network.xml')}`,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      },
    );
    harness = `status ${r.status}\n${r.stdout}${r.stderr}${existsSync(join(out, 'harness.log')) ? read('harness.log') : ''}${existsSync(join(out, 'stderr')) ? read('stderr') : ''}`;
  }, 150_000);

  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('the namespace ran libvirtd, both networks and both guests', () => {
    expect(corpusSkipReason()).toBeNull();
    expect([existsSync(join(out, 'rc')) && read('rc').trim(), harness]).toEqual([
      '0',
      expect.stringMatching(/^status 0\n/),
    ]);
  });

  it('dnsmasq refuses outside names on the isolated network (no-resolv), and tries upstream on the NAT one', () => {
    expect(read('dnsmasq-host-only.conf')).toMatch(/^dhcp-option=3\nno-resolv$/m);
    expect(read('virbr1.dns').trim()).toBe('REFUSED answers=0');
    expect(read('virbr2.dns').trim()).not.toMatch(/^REFUSED/);
  });

  it('virtables agrees: no dns-on-isolated-network finding on that host, and the no-leak sheet holds', async () => {
    const audit = await runCli([
      'audit',
      join(out, 'host.save'),
      '--net',
      join(out, 'host-only.xml'),
      '--format',
      'json',
    ]);
    const report = JSON.parse(audit.stdout) as { findings: Array<{ id: string }> };
    expect(report.findings.map((f) => f.id)).not.toContain('dns-on-isolated-network');
    const check = await runCli([
      'check',
      join(REPO_CORPUS, 'expect', 'real', 'no-dns-leak.expect'),
      '--dump',
      join(out, 'host.save'),
      '--net',
      join(out, 'host-only.xml'),
    ]);
    expect(check.stdout).toContain('PASS  11:1  vm1 -> outside dns : blocked');
    expect(check.code).toBe(0);
    // The same network on the seed lab's libvirt 0.6.3 forwards: the finding is the era's.
    const seed = await runCli([
      'audit',
      join(REPO_CORPUS, 'seed-lab', 'expected-0.6.3', 'host-only.save'),
      '--net',
      join(REPO_CORPUS, 'seed-lab', 'host-only.xml'),
      '--format',
      'json',
    ]);
    expect((JSON.parse(seed.stdout) as { findings: Array<{ id: string }> }).findings.map((f) => f.id)).toContain(
      'dns-on-isolated-network',
    );
  });
});
