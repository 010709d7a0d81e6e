// `virtables check` on libvirt 9.0.0's real rules (../shared/corpus/libvirt-real): policies
// that hold exit 0, a policy that does not exits 1 with the trace that decided it, and
// missing or bad inputs exit 2 with a message and nothing on standard output.

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { describeCorpus, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

const REAL = join(SHARED_CORPUS, 'libvirt-real');
const POLICIES = join(REPO_CORPUS, 'expect', 'real');
const LAB_ANSWER = join(REPO_CORPUS, 'labs', 'xen-networking', 'answers', '7', 'reference');

interface Report {
  passed: number;
  failed: number;
  results: Array<{
    text: string;
    status: string;
    message: string;
    hint: string | null;
    traces: Array<{ request: { verdict: string; events: unknown[] } }>;
    rules: { missing: unknown[]; extra: unknown[] } | null;
  }>;
}

const hostOnly = ['--dump', join(REAL, 'b-host-only', 'after.txt'), '--net', join(REAL, 'b-host-only', 'network.xml')];
const natted = [
  '--dump',
  join(REAL, 'c-natted', 'after.txt'),
  '--before',
  join(REAL, 'c-natted', 'before.txt'),
  '--net',
  join(REAL, 'c-natted', 'network.xml'),
];

describeCorpus('virtables check on real captures', () => {
  it('an isolated network holds its policy (local names answer, outside names are refused): exit 0', async () => {
    const r = await runCli(['check', join(POLICIES, 'isolated.expect'), ...hostOnly, '--format', 'json']);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.results.filter((x) => x.status !== 'pass').map((x) => `${x.text}: ${x.message}`)).toEqual([]);
    expect(report.passed).toBe(8);
    const dns = report.results.find((x) => x.text === 'vm1 -> outside dns : blocked')!;
    expect(dns.message).toContain(
      "vm1's query to the host's dnsmasq (192.168.123.10:40000 → 192.168.123.1:53, udp) is accepted, but libvirt 9.0.0's dnsmasq has no-resolv on an isolated network (since libvirt 0.9.4): outside names are refused",
    );
    expect(r.code).toBe(0);
  });

  it("the stricter no-leak policy holds on libvirt 9.0.0 and fails on the seed lab's libvirt 0.6.3: exit 1, with the relay named", async () => {
    expect((await runCli(['check', join(POLICIES, 'no-dns-leak.expect'), ...hostOnly])).code).toBe(0);
    const seed = [
      '--dump',
      join(REPO_CORPUS, 'seed-lab', 'expected-0.6.3', 'host-only.save'),
      '--net',
      join(REPO_CORPUS, 'seed-lab', 'host-only.xml'),
    ];
    const sheet = join(REPO_CORPUS, 'expect', 'seed', 'no-dns-leak.expect');
    const r = await runCli(['check', sheet, ...seed, '--format', 'json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    expect(report).toMatchObject({ passed: 1, failed: 1 });
    const leak = report.results[0]!;
    expect(leak).toMatchObject({ text: 'vm1 -> outside dns : blocked', status: 'fail' });
    expect(leak.message).toContain(
      "names resolve: vm1's query to the host's dnsmasq (192.168.123.10:40000 → 192.168.123.1:53, udp) is accepted by filter INPUT rule '-A INPUT -i virbr1 -p udp -m udp --dport 53 -j ACCEPT'",
    );
    expect(leak.message).toContain(
      "and dnsmasq forwards it to outside (libvirt 0.6.3's dnsmasq forwards the queries it cannot answer to the host's resolvers (isolated networks get no-resolv only from libvirt 0.9.4 on))",
    );
    // libvirt 0.6.3's dnsmasq offers the host as router: the direct tries are rejected in FORWARD, not unroutable.
    expect(leak.traces.map((t) => t.request.verdict)).toEqual(['rejected', 'rejected', 'delivered', 'delivered']);
    const text = await runCli(['check', sheet, ...seed]);
    expect(text.stdout).toContain('FAIL  11:1  vm1 -> outside dns : blocked');
    expect(text.stdout).toContain('hint: Refuse port 53 on virbr1 above libvirt');
    expect(text.stdout).toContain('2 assertions: 1 passed, 1 failed');
  });

  it('a NAT network with a port forward from --rules, and the rules libvirt 9.0.0 added: exit 0', async () => {
    const r = await runCli([
      'check',
      join(POLICIES, 'natted.expect'),
      ...natted,
      '--rules',
      join(POLICIES, 'portforward.txt'),
      '--format',
      'json',
    ]);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.results.filter((x) => x.status !== 'pass').map((x) => `${x.text}: ${x.message}`)).toEqual([]);
    expect(report.results.find((x) => x.text.startsWith('after starting'))?.rules).toMatchObject({
      missing: [],
      extra: [],
    });
    expect(r.code).toBe(0);
  });

  it('without the port forward the forwarded port is refused by libvirt, and says so', async () => {
    const r = await runCli([
      'check',
      join(POLICIES, 'natted.expect'),
      ...natted,
      '--rules',
      join(REPO_CORPUS, 'listings', 'host-only+natted.S.txt'),
      '--format',
      'json',
    ]);
    expect(r.code).toBe(1);
    const fwd = (JSON.parse(r.stdout) as Report).results.find(
      (x) => x.text === 'outside -> host:8080 -> vm1:80 : allowed',
    )!;
    expect(fwd.status).toBe('fail');
    expect(fwd.message).toContain('nothing forwards it to vm1 (a DNAT in nat PREROUTING does)');
  });

  it('a guest routing for another through the NAT network (its own dump given with --guest-dump): exit 0', async () => {
    const r = await runCli([
      'check',
      join(POLICIES, 'router.expect'),
      '--dump',
      join(REAL, 'c-natted', 'after.txt'),
      '--net',
      join(REAL, 'c-natted', 'network.xml'),
      '--net',
      join(LAB_ANSWER, 'internal.xml'),
      '--guest-dump',
      `vm2=${join(LAB_ANSWER, 'vm2.save')}`,
    ]);
    expect(r.stdout).toContain(
      'vm1 → outside tcp/80: it connects through vm2: it leaves vm2 as 192.168.124.20 (vm2 masquerades it)',
    );
    expect(r.code).toBe(0);
  });

  it('reads the policy from standard input', async () => {
    const r = await runCli(['check', '-', ...hostOnly], read(join(POLICIES, 'isolated.expect')));
    expect(r.stdout).toContain('8 assertions: 8 passed, 0 failed');
    expect(r.code).toBe(0);
  });

  for (const [what, argv, message] of [
    [
      'no dump',
      ['check', join(POLICIES, 'isolated.expect'), '--net', join(REAL, 'b-host-only', 'network.xml')],
      'virtables check: no firewall to check: give --dump\n',
    ],
    [
      'a network the policy needs is not given',
      ['check', join(POLICIES, 'isolated.expect'), '--dump', join(REAL, 'b-host-only', 'after.txt')],
      "virtables check: the command line does not define network 'host-only' (a libvirt XML file with <name>host-only</name>)\n",
    ],
    [
      'a bad --guest-dump',
      ['check', join(POLICIES, 'router.expect'), ...natted, '--guest-dump', 'vm2'],
      "virtables check: --guest-dump takes GUEST=DUMP (got 'vm2')\n",
    ],
    [
      'two policies',
      ['check', join(POLICIES, 'isolated.expect'), join(POLICIES, 'natted.expect'), ...hostOnly],
      'virtables check: give one expectations file (got 2)\n',
    ],
  ] as const) {
    it(`exit 2 when ${what}`, async () => {
      const r = await runCli([...argv]);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`${message}(see 'virtables check --help')\n`);
      expect(r.code).toBe(2);
    });
  }
});
