// The seed lab (CentOS 5, libvirt 0.6.3, iptables 1.3.5): starting its networks on the lab
// host's clean firewall gives the dumps in corpus/seed-lab/expected-0.6.3 (derived from
// libvirt 0.6's code; see the README there), compared in canonical form.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { formatDump } from '../../src/write/save.js';
import { runCli } from '../helpers/cli.js';
import { REPO_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

const LAB = join(REPO_CORPUS, 'seed-lab');
const EXPECTED = join(LAB, 'expected-0.6.3');
const legacy = ['--flavor', 'libvirt-legacy', '--libvirt-version', '0.6.3', '--base', join(LAB, 'clean-host.save')];

const cases: Array<{ expected: string; networks: string[] }> = [
  { expected: 'host-only.save', networks: ['host-only'] },
  { expected: 'natted.save', networks: ['natted'] },
  { expected: 'not_even_host.save', networks: ['not_even_host'] },
  { expected: 'host-only+natted.save', networks: ['host-only', 'natted'] },
];

describe('seed lab at libvirt 0.6.3', () => {
  for (const c of cases) {
    it(`${c.networks.join(' then ')} on clean-host.save gives expected-0.6.3/${c.expected}`, async () => {
      const r = await runCli(['compile', ...c.networks.map((n) => join(LAB, `${n}.xml`)), ...legacy]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(formatDump(parseSave(read(join(EXPECTED, c.expected)), { file: c.expected })));
    });
  }

  it('the natted network of the lab era masquerades with the 0.6 syntax: one MASQUERADE, --destination ! NET/NETMASK', async () => {
    const r = await runCli([
      'compile',
      join(LAB, 'natted.xml'),
      '--flavor',
      'libvirt-legacy',
      '--libvirt-version',
      '0.6.3',
      '--format',
      'args',
    ]);
    expect(r.stdout).toContain("--destination '!' 192.168.124.0/255.255.255.0 \\\n--jump MASQUERADE\n");
    expect(r.stdout).not.toContain('--to-ports');
    expect(r.stdout).not.toContain('CHECKSUM');
    expect(r.stdout).not.toContain('OUTPUT');
    expect(r.stdout).toContain('--match state');
  });

  it('the same networks under a modern legacy-era libvirt (5.0.0) add the later rules', async () => {
    const r = await runCli([
      'compile',
      join(LAB, 'natted.xml'),
      '--flavor',
      'libvirt-legacy',
      '--base',
      join(LAB, 'clean-host.save'),
    ]);
    expect(r.stdout).toContain(
      '-A POSTROUTING -s 192.168.124.0/24 ! -d 192.168.124.0/24 -p tcp -j MASQUERADE --to-ports 1024-65535',
    );
    expect(r.stdout).toContain(
      '-A FORWARD -d 192.168.124.0/24 -o virbr2 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    );
    expect(r.stdout).toContain('*mangle');
  });
});
