// `virtables trace`: one packet (text and JSON), the reachability matrix, and usage errors,
// on the real libvirt captures and the seed lab files.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readBytesFromDisk, type Io } from '../../src/cli/io.js';
import { describeCorpus, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

async function cli(argv: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = {
    stdout: (t) => (out += t), stderr: (t) => (err += t), stdoutIsTTY: false, stderrIsTTY: false, env: {},
    readBytes: (p) => (p === '-' ? new TextEncoder().encode(stdin) : readBytesFromDisk(p)),
  };
  const code = await main(argv, io);
  return { code, out, err };
}

const C = join(SHARED_CORPUS, 'libvirt-real', 'c-natted');
const natted = [join(C, 'after.txt'), '--net', join(C, 'network.xml'), '--uplink', 'eth0=10.0.2.15/24,gw=10.0.2.2'];

interface PathEntry { table: string; chain: string; line: number | null; rule: string | null; why: string | null; action: string }

describeCorpus('virtables trace on the real libvirt capture (natted)', () => {
  it('guest → outside: delivered, masqueraded, with the path and the reply', async () => {
    const { code, out, err } = await cli(['trace', ...natted, '--from', 'natted-vm', '--to', 'outside', '--proto', 'tcp', '--dport', '443', '--format', 'json']);
    expect(err).toBe('');
    expect(code).toBe(0);
    const j = JSON.parse(out) as { verdict: string; packet: Record<string, unknown>; translated: Record<string, unknown>; path: PathEntry[]; reply: { verdict: string; path: PathEntry[] } };
    expect(j.verdict).toBe('delivered');
    expect(j.packet).toMatchObject({ from: 'natted-vm', to: 'outside', proto: 'tcp', src: '192.168.124.2', dst: '203.0.113.10', sport: 40000, dport: 443 });
    expect(j.translated).toEqual({ src: '10.0.2.15', dst: '203.0.113.10', sport: 40000, dport: 443 });
    const accept = j.path.find((p) => p.action === 'accept')!;
    expect(accept).toMatchObject({ table: 'filter', chain: 'LIBVIRT_FWO', rule: '-A LIBVIRT_FWO -s 192.168.124.0/24 -i virbr2 -j ACCEPT', why: 'guests of 192.168.124.0/24 on virbr2 may start connections to anywhere' });
    // The line is where the rule sits in the input file.
    expect(read(join(C, 'after.txt')).split('\n')[accept.line! - 1]).toBe('-A LIBVIRT_FWO -s 192.168.124.0/24 -i virbr2 -j ACCEPT');
    const masq = j.path.find((p) => p.action === 'nat')!;
    expect(masq.rule).toBe('-A LIBVIRT_PRT -s 192.168.124.0/24 ! -d 192.168.124.0/24 -p tcp -j MASQUERADE --to-ports 1024-65535');
    expect(j.reply.verdict).toBe('delivered');
    expect(j.reply.path.find((p) => p.action === 'accept')?.rule).toBe('-A LIBVIRT_FWI -d 192.168.124.0/24 -o virbr2 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
  });

  it('outside → guest: rejected by libvirt, the deciding rule last', async () => {
    const { out } = await cli(['trace', ...natted, '--from', 'outside', '--to', 'natted-vm', '--dport', '22', '--format', 'json']);
    const j = JSON.parse(out) as { verdict: string; reason: string; path: PathEntry[]; reply: unknown };
    expect(j.verdict).toBe('rejected');
    expect(j.path.at(-1)).toMatchObject({ chain: 'LIBVIRT_FWI', action: 'reject', rule: '-A LIBVIRT_FWI -o virbr2 -j REJECT --reject-with icmp-port-unreachable' });
    expect(j.reason).toMatch(/^rejected in filter LIBVIRT_FWI \(rule at line \d+\) with icmp-port-unreachable$/);
    expect(j.reply).toBeNull();
  });

  it('text output names the verdict, the translation and each rule with its line', async () => {
    const { out } = await cli(['trace', ...natted, '--from', 'natted-vm', '--to', 'outside', '--proto', 'udp']);
    expect(out.split('\n')[0]).toBe('udp natted-vm (192.168.124.2:40000) → outside (203.0.113.10:53): DELIVERED — delivered to outside');
    expect(out).toContain('  arrives as 10.0.2.15:40000 → 203.0.113.10:53 (after NAT)');
    expect(out).toMatch(/nat LIBVIRT_PRT, line \d+: -A LIBVIRT_PRT -s 192\.168\.124\.0\/24 ! -d 192\.168\.124\.0\/24 -p udp -j MASQUERADE --to-ports 1024-65535/);
    expect(out).toContain('  reply: DELIVERED — delivered to natted-vm');
  });

  it('the dump may come from standard input', async () => {
    const { code, out } = await cli(['trace', '-', '--net', join(C, 'network.xml'), '--from', 'host', '--to', 'natted-vm', '--proto', 'icmp', '--format', 'json'], read(join(C, 'after.txt')));
    expect(code).toBe(0);
    expect(JSON.parse(out).verdict).toBe('delivered');
  });
});

describe('virtables trace --matrix on the seed lab', () => {
  const lab = [join(REPO_CORPUS, 'seed-lab', 'clean-host.save'), '--topology', join(REPO_CORPUS, 'topology', 'seed-lab.topo')];

  it('JSON: every ordered pair for every service', async () => {
    const { code, out } = await cli(['trace', ...lab, '--matrix', '--format', 'json']);
    expect(code).toBe(0);
    const j = JSON.parse(out) as { nodes: string[]; services: string[]; cells: Array<{ from: string; to: string; service: string; state: string; decidedBy: PathEntry | null }> };
    expect(j.nodes).toEqual(['host', 'vm1', 'vm2', 'outside']);
    expect(j.services).toEqual(['icmp', 'tcp/22', 'tcp/80', 'udp/53']);
    expect(j.cells.length).toBe(4 * 4 * 3);
    const cell = (from: string, to: string, service: string) => j.cells.find((c) => c.from === from && c.to === to && c.service === service)!;
    // The clean lab host (no network started yet): FORWARD rejects everything with icmp-host-prohibited.
    expect(cell('vm2', 'outside', 'tcp/80')).toMatchObject({ state: 'rejected', decidedBy: { chain: 'FORWARD', rule: '-A FORWARD -j REJECT --reject-with icmp-host-prohibited' } });
    expect(cell('vm2', 'host', 'tcp/22').state).toBe('ok');
    expect(cell('vm2', 'host', 'tcp/80')).toMatchObject({ state: 'rejected', decidedBy: { rule: '-A INPUT -j REJECT --reject-with icmp-host-prohibited' } });
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
    const dump = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp -m recent --update --seconds 60 --name ssh --rsource -j DROP\nCOMMIT\n';
    const { code, out } = await cli(['trace', '-', '--bridge', 'virbr0=192.168.122.1/24', '--guest', 'vm@virbr0=192.168.122.5', '--from', 'vm', '--to', 'host', '--dport', '22', '--format', 'json'], dump);
    expect(code).toBe(0);
    const j = JSON.parse(out) as { verdict: string; reason: string };
    expect(j.verdict).toBe('unknown');
    expect(j.reason).toBe('unknown because of rule 5 (filter INPUT): -m recent (virtables does not evaluate this match module)');
  });
});

describe('usage errors exit 2 with a message', () => {
  const dump = join(REPO_CORPUS, 'seed-lab', 'clean-host.save');
  const cases: Array<[string, string[], RegExp]> = [
    ['no --from/--to', ['trace', dump], /give --from and --to \(or --matrix\)/],
    ['--matrix with --from', ['trace', dump, '--matrix', '--from', 'host'], /--matrix traces every pair/],
    ['bad --proto', ['trace', dump, '--from', 'host', '--to', 'outside', '--proto', 'sctp'], /--proto must be one of tcp, udp, icmp/],
    ['bad --dport', ['trace', dump, '--from', 'host', '--to', 'outside', '--dport', 'http'], /--dport must be a port number/],
    ['ports on icmp', ['trace', dump, '--from', 'host', '--to', 'outside', '--proto', 'icmp', '--dport', '1'], /icmp has no ports/],
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
    const { code, out } = await cli(['trace', save, '--net', xen('xend-config-bridge.sxp'), '--net', xen('domains/web.cfg'), '--net', xen('domains/db.cfg'),
      '--uplink', 'xenbr0=10.0.0.1/24,gw=10.0.0.254,port=peth0', '--from', 'dom1', '--to', 'outside', '--proto', 'icmp', '--format', 'json']);
    expect(code).toBe(0);
    const j = JSON.parse(out) as { verdict: string; hops: string[]; path: PathEntry[] };
    expect(j.verdict).toBe('delivered');
    expect(j.hops[0]).toBe('bridged on xenbr0 from vif1.0 to peth0 (br_netfilter on: iptables sees it)');
    expect(j.path.find((p) => p.action === 'accept')?.rule).toBe('-A FORWARD -s 10.0.0.5/32 -m physdev --physdev-in vif1.0 --physdev-is-bridged -j ACCEPT');
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
    for (const [from, src] of [['dom1', '10.0.1.1'], ['dom1.1', '192.168.50.10']] as const) {
      const { code, out } = await cli(['trace', dump, ...nets, '--from', from, '--to', 'outside', '--dport', '80', '--format', 'json']);
      expect(code).toBe(0);
      const j = JSON.parse(out) as { verdict: string; packet: { src: string }; translated: { src: string } };
      expect([j.verdict, j.packet.src, j.translated.src]).toEqual(['delivered', src, '10.0.2.15']);
    }
    // vif-nat's router address: the guest's with 127 added to the last octet (10.0.1.1 → 10.0.1.128)
    const toHost = await cli(['trace', dump, ...nets, '--from', 'dom1', '--to', 'host', '--proto', 'icmp', '--format', 'json']);
    expect(JSON.parse(toHost.out)).toMatchObject({ verdict: 'delivered', packet: { dst: '10.0.1.128' } });
  });
});
