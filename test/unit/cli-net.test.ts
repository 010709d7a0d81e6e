// `virtables net`: tables and JSON for the seed lab's networks and a Xen host, exit codes and
// positioned errors on bad input.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBytesFromDisk } from '../../src/input/disk.js';
import type { Io } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { REPO_CORPUS } from '../helpers/env.js';

async function runNet(args: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    stdoutIsTTY: false,
    stderrIsTTY: false,
    env: {},
    readBytes: (path) => (path === '-' ? new TextEncoder().encode(stdin ?? '') : readBytesFromDisk(path)),
  };
  const code = await main(['net', ...args], io);
  return { code, out, err };
}

const seed = (f: string) => join(REPO_CORPUS, 'seed-lab', f);
const xen = (f: string) => join(REPO_CORPUS, 'xen', f);

/** The value cell of a row in a `net` table, its wrapped lines joined. */
function cell(table: string, key: string): string {
  const lines = table.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`│ ${key.padEnd(8)} │`));
  if (start < 0) return '(no row)';
  const parts = [lines[start]!.split('│')[2]!.trim()];
  for (let i = start + 1; lines[i]?.startsWith(`│ ${''.padEnd(8)} │`); i++) parts.push(lines[i]!.split('│')[2]!.trim());
  return parts.join(' ');
}

describe('virtables net', () => {
  it('one table per network, with the mode explained', async () => {
    const { code, out, err } = await runNet([seed('default.xml'), seed('host-only.xml'), seed('not_even_host.xml')]);
    expect([code, err]).toEqual([0, '']);
    const tables = out.split('\n\n');
    expect(tables).toHaveLength(3);
    expect(['network', 'mode', 'bridge', 'subnets', 'DHCP', 'DNS', 'meaning'].map((k) => cell(tables[0]!, k))).toEqual([
      `default  (${seed('default.xml')}:1)`,
      'nat',
      'virbr0 (stp on, delay 0)',
      '192.168.122.0/24 (host 192.168.122.1)',
      '192.168.122.2 - 192.168.122.254',
      'on',
      'NAT: guests reach outside, outside cannot reach guests',
    ]);
    expect(cell(tables[1]!, 'mode')).toBe('isolated (no <forward>)');
    expect(cell(tables[1]!, 'meaning')).toBe(
      'isolated: guests reach each other and the host only (DNS on: local names; outside names too on libvirt before 0.9.4)',
    );
    expect([cell(tables[2]!, 'subnets'), cell(tables[2]!, 'DNS')]).toEqual(['-', 'off']);
    expect(cell(tables[2]!, 'meaning')).toBe(
      'no host address: guests see each other only, not the host (isolation by addressing)',
    );
  });

  it('reads standard input and several concatenated documents', async () => {
    const { code, out } = await runNet(
      ['-'],
      readFileSync(join(REPO_CORPUS, 'network-xml', 'concatenated.xml'), 'utf8'),
    );
    expect(code).toBe(0);
    expect(out.split('\n\n').map((t) => cell(t, 'network'))).toEqual([
      'lab-nat  (-:4)',
      'lab-isolated  (-:27)',
      'lab-route  (-:34)',
    ]);
    expect(cell(out.split('\n\n')[2]!, 'meaning')).toBe(
      'routed: guests reach outside via eth1 and outside reaches guests, no NAT (the LAN router needs a route to 192.0.2.0/28)',
    );
    expect(cell(out.split('\n\n')[1]!, 'subnets')).toBe(
      'fd00:11::/64 (host fd00:11::1) 172.16.0.0/16 (host 172.16.11.1)',
    );
  });

  it('JSON output: the documented shape', async () => {
    const { code, out } = await runNet([
      '--format',
      'json',
      seed('natntw.xml'),
      xen('xend-config-bridge.sxp'),
      xen('domains/web.cfg'),
      xen('domains/db.cfg'),
    ]);
    expect(code).toBe(0);
    const json = JSON.parse(out) as { networks: Array<Record<string, unknown>> };
    expect(json.networks.map((n) => [n.kind, n.name, n.mode])).toEqual([
      ['libvirt', 'natntw', 'nat'],
      ['xen', 'xen-bridge', 'bridge'],
    ]);
    const natntw = json.networks[0]!;
    expect(natntw.ips).toEqual([
      {
        family: 4,
        address: '192.168.100.1',
        prefix: 24,
        subnet: '192.168.100.0/24',
        line: 9,
        dhcpRanges: [{ start: '192.168.100.10', end: '192.168.100.254' }],
        dhcpHosts: [],
        tftpRoot: null,
        bootp: null,
      },
    ]);
    expect(natntw.forward).toEqual({
      dev: null,
      interfaces: [],
      pf: null,
      nat: { addressStart: null, addressEnd: null, portStart: 1024, portEnd: 65535, ipv6: false },
    });
    expect(natntw.dns).toEqual({
      enabled: true,
      served: true,
      forwardPlainNames: null,
      forwarders: [],
      hosts: [],
      srv: [],
      txt: [],
    });
    expect(json.networks[1]!.vifs).toEqual([
      {
        name: 'vif1.0',
        domid: 1,
        devid: 0,
        ips: ['10.0.0.5', '10.0.0.6/31'],
        bridge: 'xenbr0',
        mac: '00:16:3e:00:01:00',
        file: xen('domains/web.cfg'),
        line: 7,
      },
      {
        name: 'vif2.0',
        domid: 2,
        devid: 0,
        ips: [],
        bridge: 'xenbr0',
        mac: '00:16:3e:00:02:00',
        file: xen('domains/db.cfg'),
        line: 5,
      },
    ]);
  });

  it('bad input: the positioned error on stderr, nothing on stdout, exit 2', async () => {
    const bad = join(REPO_CORPUS, 'network-xml', 'bad', 'billion-laughs.xml');
    expect(await runNet([seed('default.xml'), bad])).toEqual({
      code: 2,
      out: '',
      err: `${bad}:2:1: DOCTYPE declarations are refused (virtables reads no DTD: no external entities, no entity expansion)\n`,
    });
  });

  it('usage errors exit 2', async () => {
    expect((await runNet([])).code).toBe(2);
    expect((await runNet(['--format', 'yaml', seed('default.xml')])).err).toContain(
      "--format must be one of table, json (got 'yaml')",
    );
    expect((await runNet([xen('xend-config-nat.sxp'), xen('xend-config-route.sxp')])).err).toContain(
      'two Xen host configurations',
    );
  });

  it('--help', async () => {
    const { code, out } = await runNet(['--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/^Usage: virtables net FILE… \[--format table\|json\]/);
  });
});
