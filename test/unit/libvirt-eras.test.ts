// --libvirt-version picks the era of the legacy rules; each documented boundary shows up
// exactly at its release (one release before it, the older behaviour).

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LEGACY_BOUNDARIES } from '../../src/engine/libvirt-legacy.js';
import { XEN_BOUNDARIES } from '../../src/engine/xen-common.js';
import { read } from '../helpers/files.js';
import { runCli } from '../helpers/cli.js';
import { describeCorpus, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';

const natted = join(REPO_CORPUS, 'seed-lab', 'natted.xml');
const args = async (xml: string, version: string) => {
  const r = await runCli([
    'compile',
    xml,
    '--flavor',
    'libvirt-legacy',
    '--libvirt-version',
    version,
    '--format',
    'args',
  ]);
  expect(r.stderr).toBe('');
  return r.stdout.replace(/ \\\n/g, ' ');
};

describe('legacy eras on the seed lab natted network', () => {
  it.each([
    ['0.7.3', "--destination '!' 192.168.124.0/255.255.255.0", true],
    ['0.7.4', "'!' --destination 192.168.124.0/255.255.255.0", true],
    ['0.8.2', '--to-ports', false],
    ['0.8.3', '--to-ports 1024-65535', true],
    ['0.8.2', 'CHECKSUM', false],
    ['0.8.3', 'CHECKSUM --checksum-fill', true],
    ['0.8.4', '--source 192.168.124.0/255.255.255.0', true],
    ['0.8.5', '--source 192.168.124.0/24', true],
    ['1.2.3', '--match state --state ESTABLISHED,RELATED', true],
    ['1.2.4', '--match conntrack --ctstate ESTABLISHED,RELATED', true],
    ['1.2.3', '--destination 255.255.255.255/32 --jump RETURN', false],
    ['1.2.4', '--destination 255.255.255.255/32 --jump RETURN', true],
    ['1.2.3', '--insert OUTPUT', false],
    ['1.2.4', '--insert OUTPUT --out-interface virbr2 --protocol udp --destination-port 68', true],
  ])('libvirt %s: %s %s', async (version, text, present) => {
    expect((await args(natted, version)).includes(text)).toBe(present);
  });

  it('every boundary is a real release number and says how it is known', () => {
    for (const b of LEGACY_BOUNDARIES) {
      expect(b.since).toMatch(/^\d+\.\d+\.\d+$/);
      expect(['verified', 'estimated']).toContain(b.evidence);
      expect(b.source.length).toBeGreaterThan(10);
    }
  });

  it('refuses versions outside the flavour', async () => {
    const tooNew = await runCli(['compile', natted, '--flavor', 'libvirt-legacy', '--libvirt-version', '5.1.0']);
    expect(tooNew.code).toBe(2);
    expect(tooNew.stderr).toContain('use --flavor libvirt');
    const tooOld = await runCli(['compile', natted, '--libvirt-version', '5.0.0']);
    expect(tooOld.code).toBe(2);
    expect(tooOld.stderr).toContain('--flavor libvirt-legacy');
    const nft = await runCli(['compile', natted, '--flavor', 'libvirt-nft', '--libvirt-version', '10.3.0']);
    expect(nft.code).toBe(2);
  });
});

describeCorpus('legacy eras on libvirt test inputs', () => {
  const xml = (name: string) => join(SHARED_CORPUS, 'libvirt', 'firewall', `${name}.xml`);

  it('tftp: INPUT udp 69 from 0.8.2 (and never OUTPUT udp 69 before private chains)', async () => {
    expect(await args(xml('nat-tftp'), '0.8.1')).not.toContain('--destination-port 69');
    const a = await args(xml('nat-tftp'), '0.8.2');
    expect(a).toContain('--insert INPUT --in-interface virbr0 --protocol udp --destination-port 69 --jump ACCEPT');
    expect(a).not.toContain('--insert OUTPUT --out-interface virbr0 --protocol udp --destination-port 69');
  });

  it('IPv6: a version without IPv6 networks refuses an IPv6 first <ip>, ignores later ones with a note', async () => {
    const r = await runCli([
      'compile',
      xml('nat-ipv6'),
      '--flavor',
      'libvirt-legacy',
      '--libvirt-version',
      '0.8.6',
      '--format',
      'args',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('ip6tables');
    expect(r.stderr).toContain('reads only the first <ip>');
    const v6 = await runCli([
      'compile',
      xml('nat-ipv6'),
      '--flavor',
      'libvirt-legacy',
      '--libvirt-version',
      '0.8.7',
      '--format',
      'args',
    ]);
    expect(v6.stdout).toContain('ip6tables');
    const first6 = join(SHARED_CORPUS, 'libvirt', 'xml', 'nat-network-forward-nat-ipv6.xml');
    const refused = await runCli(['compile', first6, '--flavor', 'libvirt-legacy', '--libvirt-version', '0.8.6']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^.*nat-network-forward-nat-ipv6\.xml:\d+:\d+: libvirt 0\.8\.6 reads only an IPv4 <ip>/,
    );
  });

  it('DHCPv6 INPUT udp 547 from 1.0.1', async () => {
    expect(await args(xml('nat-ipv6'), '1.0.0')).not.toContain('--destination-port 547');
    expect(await args(xml('nat-ipv6'), '1.0.1')).toContain('--destination-port 547');
  });

  it('<nat><port>: fixed 1024-65535 before 1.0.3, configured after', async () => {
    expect(await args(xml('nat-port-range'), '1.0.2')).toContain('--to-ports 1024-65535');
    expect(await args(xml('nat-port-range'), '1.0.3')).toContain('--to-ports 500-1000');
  });
});

describe('docs/commands/compile.md', () => {
  const doc = read(join(REPO_CORPUS, '..', 'docs', 'commands', 'compile.md'));
  const rows = doc.split('\n').filter((l) => l.startsWith('| '));

  it('lists every legacy libvirt boundary the engine applies, with its evidence', () => {
    for (const b of LEGACY_BOUNDARIES) {
      expect(
        rows.some((r) => r.startsWith(`| ${b.since} |`) && r.includes(b.evidence)),
        `${b.since} ${b.feature}`,
      ).toBe(true);
    }
    expect(rows.filter((r) => /^\| \d+\.\d+\.\d+ \|.*\| (verified|estimated) —/.test(r))).toHaveLength(
      LEGACY_BOUNDARIES.length,
    );
  });

  it('lists every Xen boundary the engine applies', () => {
    for (const b of XEN_BOUNDARIES)
      expect(
        rows.some((r) => r.startsWith(`| ${b.since} |`)),
        `${b.since} ${b.feature}`,
      ).toBe(true);
  });
});
