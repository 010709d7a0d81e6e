// `virtables trace`: one packet (text and JSON), the reachability matrix, and usage errors,
// on the real libvirt captures and the seed lab files.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readBytesFromDisk } from '../../src/input/disk.js';
import type { Io } from '../../src/cli/io.js';
import { describeCorpus, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

async function cli(argv: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    stdoutIsTTY: false,
    stderrIsTTY: false,
    env: {},
    readBytes: (p) => (p === '-' ? new TextEncoder().encode(stdin) : readBytesFromDisk(p)),
  };
  const code = await main(argv, io);
  return { code, out, err };
}

const C = join(SHARED_CORPUS, 'libvirt-real', 'c-natted');
const natted = [join(C, 'after.txt'), '--net', join(C, 'network.xml'), '--uplink', 'eth0=10.0.2.15/24,gw=10.0.2.2'];

interface PathEntry {
  table: string;
  chain: string;
  line: number | null;
  rule: string | null;
  why: string | null;
  action: string;
}

describeCorpus('virtables trace on the real libvirt capture (natted)', () => {
  it('guest → outside: delivered, masqueraded, with the path and the reply', async () => {
    const { code, out, err } = await cli([
      'trace',
      ...natted,
      '--from',
      'natted-vm',
      '--to',
      'outside',
      '--proto',
      'tcp',
      '--dport',
      '443',
      '--format',
      'json',
    ]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const j = JSON.parse(out) as {
      verdict: string;
      packet: Record<string, unknown>;
      translated: Record<string, unknown>;
      path: PathEntry[];
      reply: { verdict: string; path: PathEntry[] };
    };
    expect(j.verdict).toBe('delivered');
    expect(j.packet).toMatchObject({
      from: 'natted-vm',
      to: 'outside',
      proto: 'tcp',
      src: '192.168.124.2',
      dst: '203.0.113.10',
      sport: 40000,
      dport: 443,
    });
    expect(j.translated).toEqual({ src: '10.0.2.15', dst: '203.0.113.10', sport: 40000, dport: 443 });
    const accept = j.path.find((p) => p.action === 'accept')!;
    expect(accept).toMatchObject({
      table: 'filter',
      chain: 'LIBVIRT_FWO',
      rule: '-A LIBVIRT_FWO -s 192.168.124.0/24 -i virbr2 -j ACCEPT',
      why: 'guests of 192.168.124.0/24 on virbr2 may start connections to anywhere',
    });
    // The line is where the rule sits in the input file.
    expect(read(join(C, 'after.txt')).split('\n')[accept.line! - 1]).toBe(
      '-A LIBVIRT_FWO -s 192.168.124.0/24 -i virbr2 -j ACCEPT',
    );
    const masq = j.path.find((p) => p.action === 'nat')!;
    expect(masq.rule).toBe(
      '-A LIBVIRT_PRT -s 192.168.124.0/24 ! -d 192.168.124.0/24 -p tcp -j MASQUERADE --to-ports 1024-65535',
    );
    expect(j.reply.verdict).toBe('delivered');
    expect(j.reply.path.find((p) => p.action === 'accept')?.rule).toBe(
      '-A LIBVIRT_FWI -d 192.168.124.0/24 -o virbr2 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    );
  });

  it('outside → guest: rejected by libvirt, the deciding rule last', async () => {
    const { out } = await cli([
      'trace',
      ...natted,
      '--from',
      'outside',
      '--to',
      'natted-vm',
      '--dport',
      '22',
      '--format',
      'json',
    ]);
    const j = JSON.parse(out) as { verdict: string; reason: string; path: PathEntry[]; reply: unknown };
    expect(j.verdict).toBe('rejected');
    expect(j.path.at(-1)).toMatchObject({
      chain: 'LIBVIRT_FWI',
      action: 'reject',
      rule: '-A LIBVIRT_FWI -o virbr2 -j REJECT --reject-with icmp-port-unreachable',
    });
    expect(j.reason).toMatch(/^rejected in filter LIBVIRT_FWI \(rule at line \d+\) with icmp-port-unreachable$/);
    expect(j.reply).toBeNull();
  });

  it('text output names the verdict, the translation and each rule with its line', async () => {
    const { out } = await cli(['trace', ...natted, '--from', 'natted-vm', '--to', 'outside', '--proto', 'udp']);
    expect(out.split('\n')[0]).toBe(
      'udp natted-vm (192.168.124.2:40000) → outside (203.0.113.10:53): DELIVERED — delivered to outside',
    );
    expect(out).toContain('  arrives as 10.0.2.15:40000 → 203.0.113.10:53 (after NAT)');
    expect(out).toMatch(
      /nat LIBVIRT_PRT, line \d+: -A LIBVIRT_PRT -s 192\.168\.124\.0\/24 ! -d 192\.168\.124\.0\/24 -p udp -j MASQUERADE --to-ports 1024-65535/,
    );
    expect(out).toContain('  reply: DELIVERED — delivered to natted-vm');
  });

  it('the dump may come from standard input', async () => {
    const { code, out } = await cli(
      [
        'trace',
        '-',
        '--net',
        join(C, 'network.xml'),
        '--from',
        'host',
        '--to',
        'natted-vm',
        '--proto',
        'icmp',
        '--format',
        'json',
      ],
      read(join(C, 'after.txt')),
    );
    expect(code).toBe(0);
    expect(JSON.parse(out).verdict).toBe('delivered');
  });
});

describe('virtables trace --matrix on the seed lab', () => {
  const lab = [
    join(REPO_CORPUS, 'seed-lab', 'clean-host.save'),
    '--topology',
    join(REPO_CORPUS, 'topology', 'seed-lab.topo'),
  ];

  it('JSON: every ordered pair for every service', async () => {
    const { code, out } = await cli(['trace', ...lab, '--matrix', '--format', 'json']);
    expect(code).toBe(0);
    const j = JSON.parse(out) as {
      nodes: string[];
      services: string[];
      cells: Array<{ from: string; to: string; service: string; state: string; decidedBy: PathEntry | null }>;
    };
    expect(j.nodes).toEqual(['host', 'vm1', 'vm2', 'outside']);
    expect(j.services).toEqual(['icmp', 'tcp/22', 'tcp/80', 'udp/53']);
    expect(j.cells.length).toBe(4 * 4 * 3);
    const cell = (from: string, to: string, service: string) =>
      j.cells.find((c) => c.from === from && c.to === to && c.service === service)!;
    // The clean lab host (no network started yet): FORWARD rejects everything with icmp-host-prohibited.
    expect(cell('vm2', 'outside', 'tcp/80')).toMatchObject({
      state: 'rejected',
      decidedBy: { chain: 'FORWARD', rule: '-A FORWARD -j REJECT --reject-with icmp-host-prohibited' },
    });
    expect(cell('vm2', 'host', 'tcp/22').state).toBe('ok');
    expect(cell('vm2', 'host', 'tcp/80')).toMatchObject({
      state: 'rejected',
      decidedBy: { rule: '-A INPUT -j REJECT --reject-with icmp-host-prohibited' },
    });
    // vm1 is on the isolated network: no router, so it cannot even try.
    expect(cell('vm1', 'outside', 'icmp').state).toBe('unreachable');
  });

  it('text: one table per service, rows send, columns receive', async () => {
    const { out } = await cli(['trace', ...lab, '--matrix', '--services', 'icmp,udp/53']);
    expect(out).toContain('│ icmp    │ → host │ → vm1');
    expect(out).toContain('│ udp/53  │');
    expect(out).toContain('rows send, columns receive.');
  });
});

describe('unknown is reported with the rule', () => {
  it('a match virtables cannot evaluate', async () => {
    const dump =
      '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp -m recent --update --seconds 60 --name ssh --rsource -j DROP\nCOMMIT\n';
    const { code, out } = await cli(
      [
        'trace',
        '-',
        '--bridge',
        'virbr0=192.168.122.1/24',
        '--guest',
        'vm@virbr0=192.168.122.5',
        '--from',
        'vm',
        '--to',
        'host',
        '--dport',
        '22',
        '--format',
        'json',
      ],
      dump,
    );
    expect(code).toBe(0);
    const j = JSON.parse(out) as {
      verdict: string;
      reason: string;
      branches: { decided: boolean; rules: Array<{ line: number }>; paths: Array<{ outcome: string }> };
    };
    expect(j.verdict).toBe('unknown');
    expect(j.reason).toMatch(
      /^the first packet depends on rule 5 \(filter INPUT: -m recent --update --seconds 60 --name ssh --rsource: whether list ssh holds an entry/,
    );
    expect(j.reason).toMatch(/: delivered if rule 5 does not; dropped by rule 5 if rule 5 matches$/);
    // JSON carries both ways.
    expect(j.branches.decided).toBe(false);
    expect(j.branches.rules.map((r) => r.line)).toEqual([5]);
    expect(j.branches.paths.map((p) => p.outcome)).toEqual(['delivered, reply delivered', 'dropped by rule 5']);
  });
});

describe('what rules are evaluated against: --assume, --mac, --ipset', () => {
  const head = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n';
  const base = [
    'trace',
    '-',
    '--bridge',
    'virbr0=192.168.122.1/24',
    '--guest',
    'vm@virbr0=192.168.122.5',
    '--from',
    'vm',
    '--to',
    'host',
    '--dport',
    '22',
  ];
  it("--assume 'recent empty' decides a recent check; the text lists both ways without it", async () => {
    const dump = `${head}-A INPUT -p tcp -m recent --rcheck --name ssh -j DROP\nCOMMIT\n`;
    const plain = await cli(base, dump);
    expect(plain.out).toMatch(/^tcp vm .*: UNKNOWN — the first packet depends on rule 5/);
    expect(plain.out).toContain(
      '  undecided conditions, 2 ways followed:\n    rule 5 does not match → delivered, reply delivered\n    rule 5 matches → dropped by rule 5\n',
    );
    const assumed = await cli([...base, '--assume', 'recent empty'], dump);
    expect(assumed.out).toMatch(/^tcp vm .*: DELIVERED/);
    const typo = await cli([...base, '--assume', 'recent emty'], dump);
    expect(typo.code).toBe(2);
    expect(typo.err).toContain(
      "--assume: 'recent emty' is not an assumption virtables knows (did you mean 'recent empty'?)",
    );
  });
  it('--mac gives a guest its MAC; an unknown guest is a usage error', async () => {
    const dump = `${head}-A INPUT -m mac --mac-source 52:54:00:00:00:05 -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n`;
    expect((await cli([...base, '--mac', 'vm=52:54:00:00:00:05'], dump)).out).toMatch(/: DELIVERED/);
    expect((await cli([...base, '--mac', 'vm=52:54:00:00:00:06'], dump)).out).toMatch(/: DROPPED/);
    const wrong = await cli([...base, '--mac', 'vn=52:54:00:00:00:05'], dump);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain("--mac: no guest 'vn' (guests: vm)");
  });
  it('--ipset: -m set decided by the members ipset save printed (corpus/ipset)', async () => {
    const dump = `${head}-A INPUT -p tcp -m set --match-set bport dst -j REJECT --reject-with tcp-reset\nCOMMIT\n`;
    const without = await cli(base, dump);
    expect(without.out).toContain('the members of set bport are not known (give ipset save output with --ipset)');
    const sets = join(REPO_CORPUS, 'ipset', 'every-type.save');
    expect((await cli([...base, '--ipset', sets], dump)).out).toMatch(/: REJECTED/);
    expect((await cli([...base.slice(0, -1), '8080', '--ipset', sets], dump)).out).toMatch(/: DELIVERED/);
  });
  it('--matrix: cells that depend on a rule say so, and the share of decided cells', async () => {
    const dump = `${head}-A INPUT -p tcp -m tcp --dport 22 -m recent --rcheck --name ssh -j DROP\nCOMMIT\n`;
    const { out } = await cli(
      ['trace', '-', '--bridge', 'virbr0=192.168.122.1/24', '--guest', 'vm@virbr0=192.168.122.5', '--matrix'],
      dump,
    );
    expect(out).toContain('depends:5');
    expect(out).toMatch(
      /depends:5: the verdict depends on rule 5 \(-m recent --rcheck --name ssh: whether list ssh holds an entry/,
    );
    expect(out).toMatch(/decided: \d+ of \d+ cells; 2 depend on named rules; 0 unknown/);
  });
});

describe('usage errors exit 2 with a message', () => {
  const dump = join(REPO_CORPUS, 'seed-lab', 'clean-host.save');
  const cases: Array<[string, string[], RegExp]> = [
    ['no --from/--to', ['trace', dump], /give --from and --to \(or --matrix\)/],
    ['--matrix with --from', ['trace', dump, '--matrix', '--from', 'host'], /--matrix traces every pair/],
    [
      'bad --proto',
      ['trace', dump, '--from', 'host', '--to', 'outside', '--proto', 'sctp'],
      /--proto must be one of tcp, udp, icmp/,
    ],
    [
      'bad --dport',
      ['trace', dump, '--from', 'host', '--to', 'outside', '--dport', 'http'],
      /--dport must be a port number/,
    ],
    [
      'ports on icmp',
      ['trace', dump, '--from', 'host', '--to', 'outside', '--proto', 'icmp', '--dport', '1'],
      /icmp has no ports/,
    ],
    ['unknown node', ['trace', dump, '--from', 'vm9', '--to', 'outside'], /'vm9' is neither host, an endpoint/],
    ['bad --services', ['trace', dump, '--matrix', '--services', 'tcp'], /'tcp' is not icmp, tcp\/PORT or udp\/PORT/],
    ['missing dump file', ['trace', '/nonexistent.save', '--matrix'], /no such file/],
  ];
  for (const [name, argv, message] of cases) {
    it(name, async () => {
      const r = await cli(argv);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(message);
    });
  }
  it('a bad topology file names FILE:LINE:COL', async () => {
    const r = await cli(['trace', dump, '--topology', join(REPO_CORPUS, 'seed-lab', 'natted.xml'), '--matrix']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/natted\.xml:1:1: unexpected '<network>'/);
  });
  it('--help', async () => {
    const r = await cli(['trace', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: virtables trace DUMP... --from NODE --to NODE');
  });
});

describeCorpus('Xen: xend-config and domain configurations as --net', () => {
  it('vif-bridge physdev rules on bridged traffic (br_netfilter auto: the dump uses physdev)', async () => {
    const save = join(SHARED_CORPUS, 'xen', 'captures', 'head-vif-bridge-ip', 'online-vif1.0-vif2.0.save');
    const xen = (f: string) => join(REPO_CORPUS, 'xen', f);
    const { code, out } = await cli([
      'trace',
      save,
      '--net',
      xen('xend-config-bridge.sxp'),
      '--net',
      xen('domains/web.cfg'),
      '--net',
      xen('domains/db.cfg'),
      '--uplink',
      'xenbr0=10.0.0.1/24,gw=10.0.0.254,port=peth0',
      '--from',
      'dom1',
      '--to',
      'outside',
      '--proto',
      'icmp',
      '--format',
      'json',
    ]);
    expect(code).toBe(0);
    const j = JSON.parse(out) as { verdict: string; hops: string[]; path: PathEntry[] };
    expect(j.verdict).toBe('delivered');
    expect(j.hops[0]).toBe('bridged on xenbr0 from vif1.0 to peth0 (br_netfilter on: iptables sees it)');
    expect(j.path.find((p) => p.action === 'accept')?.rule).toBe(
      '-A FORWARD -s 10.0.0.5/32 -m physdev --physdev-in vif1.0 --physdev-is-bridged -j ACCEPT',
    );
  });
});

describe('Xen vif-nat: each vif a routed link with the host as router', () => {
  it('a domain with two vifs is two guests (dom1, dom1.1), each reaching outside through network-nat MASQUERADE', async () => {
    const xen = (f: string) => join(REPO_CORPUS, 'xen', f);
    const nets = ['--net', xen('xend-config-nat.sxp'), '--net', xen('domains/two-nics.cfg')];
    const compiled = await cli(['compile', ...nets.filter((n) => n !== '--net'), '--flavor', 'xen-nat']);
    expect(compiled.code).toBe(0);
    const dump = join(REPO_CORPUS, 'xen', 'two-nics-nat.save');
    expect(compiled.out).toBe(read(dump));
    for (const [from, src] of [
      ['dom1', '10.0.1.1'],
      ['dom1.1', '192.168.50.10'],
    ] as const) {
      const { code, out } = await cli([
        'trace',
        dump,
        ...nets,
        '--from',
        from,
        '--to',
        'outside',
        '--dport',
        '80',
        '--format',
        'json',
      ]);
      expect(code).toBe(0);
      const j = JSON.parse(out) as { verdict: string; packet: { src: string }; translated: { src: string } };
      expect([j.verdict, j.packet.src, j.translated.src]).toEqual(['delivered', src, '10.0.2.15']);
    }
    // vif-nat's router address: the guest's with 127 added to the last octet (10.0.1.1 → 10.0.1.128)
    const toHost = await cli([
      'trace',
      dump,
      ...nets,
      '--from',
      'dom1',
      '--to',
      'host',
      '--proto',
      'icmp',
      '--format',
      'json',
    ]);
    expect(JSON.parse(toHost.out)).toMatchObject({ verdict: 'delivered', packet: { dst: '10.0.1.128' } });
  });
});

// The host trace completes from the dump: the uplink the rules name, the networks no --net gives,
// a guest at each port forward's target — and it says so.
describe('virtables trace: the topology the dump shows', () => {
  const SEED = join(REPO_CORPUS, 'seed-lab');
  const enp3s0 = join(REPO_CORPUS, 'topology', 'enp3s0-portforward.save');

  it('a dump that names enp3s0, not eth0: the port forward comes in on enp3s0 and reaches the guest at its target', async () => {
    const { code, out } = await cli([
      'trace',
      enp3s0,
      '--net',
      join(SEED, 'natted.xml'),
      '--from',
      'outside',
      '--to',
      '10.0.2.15',
      '--dport',
      '8080',
    ]);
    expect(code).toBe(0);
    expect(out.split('\n')[0]).toBe(
      'tcp outside (203.0.113.10:40000) → 10.0.2.15:8080: DELIVERED — delivered to 192.168.124.10',
    );
    expect(out).toContain('  arrives as 203.0.113.10:40000 → 192.168.124.10:80 (after NAT)');
    expect(out).toContain(
      "topology: uplink enp3s0: the interface the dump's port forwards come in on (DNAT -i enp3s0); its address is assumed (10.0.2.15/24; --uplink gives the real one)\n",
    );
    expect(out).toContain('topology: guest 192.168.124.10 placed on virbr2: the port forward at line 57 sends there\n');
    const j = JSON.parse(
      (
        await cli([
          'trace',
          enp3s0,
          '--net',
          join(SEED, 'natted.xml'),
          '--from',
          'outside',
          '--to',
          '10.0.2.15',
          '--dport',
          '8080',
          '--format',
          'json',
        ])
      ).out,
    ) as { verdict: string; at: string; topology: { notes: string[] } };
    expect([j.verdict, j.at]).toEqual(['delivered', '192.168.124.10']);
    expect(j.topology.notes).toHaveLength(2);
  });

  it('--uplink given: taken as is, no note about it', async () => {
    const { out } = await cli([
      'trace',
      enp3s0,
      '--net',
      join(SEED, 'natted.xml'),
      '--uplink',
      'eth0=10.0.2.15/24,gw=10.0.2.2',
      '--from',
      'outside',
      '--to',
      '10.0.2.15',
      '--dport',
      '8080',
    ]);
    expect(out.split('\n')[0]).toContain('DELIVERED — delivered to the host');
    expect(out).not.toContain('topology: uplink');
  });

  it('without --net: the networks inferred from the dump, as audit infers them, and said', async () => {
    const { out } = await cli([
      'trace',
      join(SEED, 'lab-host.save'),
      '--from',
      'outside',
      '--to',
      '10.0.2.15',
      '--dport',
      '8080',
    ]);
    expect(out.split('\n')[0]).toBe(
      'tcp outside (203.0.113.10:40000) → 10.0.2.15:8080: DELIVERED — delivered to 192.168.124.10',
    );
    expect(out).toContain(
      'topology: no --net: networks inferred from the dump, as audit infers them: virbr2 (host 192.168.124.1/24, guest virbr2-vm), virbr0 (host 192.168.122.1/24, guest virbr0-vm)\n',
    );
    const vm = await cli(['trace', join(SEED, 'lab-host.save'), '--from', 'virbr2-vm', '--to', 'outside']);
    expect(vm.out.split('\n')[0]).toMatch(
      /^tcp virbr2-vm \(192\.168\.124\.2:40000\) → outside \(203\.0\.113\.10:80\): DELIVERED/,
    );
  });
});

// Seed 003, the XenServer port forwards: a connection a DNAT delivers to another node says so.
describeCorpus('virtables trace --matrix: a DNAT that delivers elsewhere', () => {
  const xs = [
    join(SHARED_CORPUS, 'xen', 'captures', 'xenserver-style-portforward', 'after.save'),
    '--topology',
    join(REPO_CORPUS, 'topology', 'xenserver-portforward.topo'),
  ];

  it("outside → web2 tcp/80 is web1's (the DNAT of every port 80 on xenbr0): '→ web1', not ok", async () => {
    const { out } = await cli(['trace', ...xs, '--matrix', '--services', 'tcp/80']);
    const row = out.split('\n').find((l) => l.startsWith('│ outside'))!;
    expect(
      row
        .split('│')
        .map((c) => c.trim())
        .filter(Boolean),
    ).toEqual(['outside', '→ web1', 'ok', '→ web1', '—']);
    expect(out).toContain(
      '→ NODE: the connection works, but with NODE: a DNAT sends it there (e.g. tcp/80 outside → host is delivered to web1).',
    );
    const j = JSON.parse((await cli(['trace', ...xs, '--matrix', '--services', 'tcp/80', '--format', 'json'])).out) as {
      cells: Array<{ from: string; to: string; state: string; deliveredTo: string | null; reason: string }>;
    };
    const cell = j.cells.find((c) => c.from === 'outside' && c.to === 'web2')!;
    expect(cell).toMatchObject({ state: 'elsewhere', deliveredTo: 'web1' });
    expect(cell.reason).toMatch(/^delivered to web1, not web2/);
    expect(j.cells.find((c) => c.from === 'outside' && c.to === 'web1')).toMatchObject({
      state: 'ok',
      deliveredTo: null,
    });
  });

  it('the diagram labels the same pair with the node that gets it', async () => {
    const { out } = await cli(['diagram', ...xs, '--services', 'tcp/80']);
    expect(out).toContain('(a DNAT delivers to another node: tcp/80 → web1)');
  });
});

describe('virtables trace on an ip6tables dump', () => {
  it('IPv6 addresses with a port are written [addr]:port', async () => {
    const v6 = join(REPO_CORPUS, 'audit', 'ipv6');
    const { out } = await cli([
      'trace',
      join(v6, 'natted6.ip6.save'),
      '--net',
      join(v6, 'natted6.xml'),
      '--from',
      'outside',
      '--to',
      'natted6-vm',
      '--dport',
      '22',
    ]);
    expect(out.split('\n')[0]).toBe(
      'tcp outside ([2001:db8:ffff::10]:40000) → natted6-vm ([2001:db8:126::2]:22): DELIVERED — delivered to natted6-vm',
    );
    expect(out).toContain('as tcp [2001:db8:ffff::10]:40000 → [2001:db8:126::2]:22');
  });
});
