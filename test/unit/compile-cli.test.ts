// compile as a command: inputs (libvirt XML, Xen set-ups, standard input), flag checks and
// the positioned messages for bad input; nothing below the CLI prints or exits.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { REPO_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

const LAB = join(REPO_CORPUS, 'seed-lab');
const XEN = join(REPO_CORPUS, 'xen-setup');
const natted = join(LAB, 'natted.xml');

describe('compile flags', () => {
  it('prints help and exits 0', async () => {
    const r = await runCli(['compile', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--libvirt-version');
    expect(r.stdout).toContain('--flavor');
  });

  it.each([
    [['compile'], 'give at least one network file'],
    [['compile', natted, '--flavor', 'kvm'], '--flavor must be one of'],
    [['compile', natted, '--format', 'pdf'], '--format must be one of'],
    [['compile', natted, '--format', 'nft'], '--format nft prints the nftables ruleset of --flavor libvirt-nft'],
    [['compile', natted, '--flavor', 'libvirt-nft', '--format', 'save'], 'use --format nft'],
    [['compile', natted, '--flavor', 'libvirt-nft', '--base', join(LAB, 'clean-host.save')], 'leaves iptables alone'],
    [
      ['compile', natted, '--base', join(LAB, 'clean-host.save'), '--family', 'ipv6'],
      'is an iptables-save dump, but --family ipv6',
    ],
    [['compile', natted, '--flavor', 'xen-nat'], 'is a libvirt network; use --flavor libvirt'],
    [['compile', join(XEN, 'nat-two-guests.xen'), '--flavor', 'libvirt'], 'is a Xen set-up; use --flavor xen-nat'],
    [
      ['compile', join(XEN, 'nat-two-guests.xen'), '--flavor', 'xen-bridge'],
      'is set up for network-nat; use --flavor xen-nat',
    ],
    [['compile', natted, '--xen-version', '4.4'], '--xen-version applies to the xen-* flavours'],
    [['compile', natted, '--libvirt-version', 'eleven'], '--libvirt-version must look like X.Y or X.Y.Z'],
    [['compile', '-', '--base', '-'], "standard input ('-') can be read only once"],
    [['compile', join(LAB, 'missing.xml')], 'no such file'],
    [
      [
        'compile',
        join(REPO_CORPUS, 'xen', 'xend-config-nat.sxp'),
        join(REPO_CORPUS, 'xen', 'xend-config-route.sxp'),
        '--flavor',
        'xen-nat',
      ],
      'two Xen host configurations',
    ],
    [
      ['compile', join(REPO_CORPUS, 'xen', 'domains', 'web.cfg'), '--domids', '3,4', '--flavor', 'xen-bridge'],
      '--domids gives 2 domain id(s) for 1 domU configuration(s)',
    ],
    [
      ['compile', join(REPO_CORPUS, 'xen', 'domains', 'web.cfg'), '--domids', 'dom3', '--flavor', 'xen-bridge'],
      '--domids takes domain ids',
    ],
  ])('%j → exit 2: %s', async (argv, message) => {
    const r = await runCli(argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
  });

  it('reads a network from standard input', async () => {
    const r = await runCli(['compile', '-', '--flavor', 'libvirt-legacy', '--format', 'args'], read(natted));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--insert POSTROUTING');
  });

  it('names FILE:LINE:COL for a network libvirt would refuse, with nothing on stdout', async () => {
    const r = await runCli(
      ['compile', '-'],
      '<network><name>x</name><forward mode="nat"/><bridge name="virbr9"/><nat/></network>\n<oops',
    );
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^-:\d+:\d+: /);
  });

  it('writes a shell script with the reason above each command and the set-up only when asked', async () => {
    const plain = await runCli(['compile', natted, '--format', 'shell']);
    expect(plain.stdout.startsWith('#!/bin/sh\n')).toBe(true);
    expect(plain.stdout).toContain(
      "# natted: masquerade — guests' addresses (192.168.124.0/24) are replaced by the host's on the way out\niptables -w --table nat --insert LIBVIRT_PRT --source 192.168.124.0/24 '!' --destination 192.168.124.0/24 --jump MASQUERADE\n",
    );
    expect(plain.stdout).toContain('--checksum-fill || true\n');
    expect(plain.stdout).not.toContain('--new-chain');
    expect(plain.stdout).not.toContain('--list-rules');
    const setup = await runCli(['compile', natted, '--format', 'shell', '--setup']);
    expect(setup.stdout).toContain('iptables -w --table filter --new-chain LIBVIRT_INP\n');
  });
});

describe('Xen set-up files', () => {
  it('compiles network-nat and each vif in order', async () => {
    const r = await runCli(['compile', join(XEN, 'nat-two-guests.xen'), '--flavor', 'xen-nat', '--format', 'json']);
    expect(r.code).toBe(0);
    const program = JSON.parse(r.stdout) as {
      era: string;
      networks: string[];
      commands: Array<{ argv: string[]; purpose: string; network: string }>;
    };
    expect(program.era).toBe('xen 4.4');
    expect(program.networks).toEqual(['lab-nat']);
    const changes = program.commands.filter((c) => c.purpose !== 'probe').map((c) => c.argv.join(' '));
    expect(changes).toEqual([
      'iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE',
      'iptables -I FORWARD -m physdev --physdev-is-bridged --physdev-in vif1.0 -s 10.0.1.1/16 -j ACCEPT',
      'iptables -I FORWARD -m physdev --physdev-is-bridged --physdev-out vif1.0 -j ACCEPT',
      'iptables -I FORWARD -m physdev --physdev-is-bridged --physdev-in vif1.0 -p udp --sport 68 --dport 67 -j ACCEPT',
      'iptables -I FORWARD -m physdev --physdev-is-bridged --physdev-out vif1.0 -j ACCEPT',
      // vif-nat's default address for domain 2, device 0
      'iptables -I FORWARD -m physdev --physdev-is-bridged --physdev-in vif2.0 -s 10.0.2.1/16 -j ACCEPT',
      'iptables -I FORWARD -m physdev --physdev-is-bridged --physdev-out vif2.0 -j ACCEPT',
      'iptables -I FORWARD -m physdev --physdev-is-bridged --physdev-in vif2.0 -p udp --sport 68 --dport 67 -j ACCEPT',
      'iptables -I FORWARD -m physdev --physdev-is-bridged --physdev-out vif2.0 -j ACCEPT',
    ]);
  });

  it('notes that Xen after 4.4 has no network-nat to masquerade', async () => {
    const r = await runCli(['compile', join(XEN, 'nat-two-guests.xen'), '--flavor', 'xen-nat', '--xen-version', '4.5']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('has no network-nat script');
    expect(r.stdout).not.toContain('MASQUERADE');
  });

  it.each([
    ['antispoof-value.xen', '1:26: antispoof must be yes or no'],
    ['vif-name.xen', '2:5: expected a guest interface name vifDOMID.DEVID'],
    ['vif-first.xen', "2:1: a 'vif' line before the 'network' line"],
    ['bad-address.xen', "2:24: bad address '10.0.0.999'"],
    ['two-networks.xen', "2:1: a second 'network' line"],
    ['unknown-script.xen', '1:9: expected the network script after'],
  ])('%s → %s', async (file, message) => {
    const r = await runCli(['compile', join(XEN, 'bad', file), '--flavor', 'xen-nat']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:${message}`);
  });
});

describe('compile infers the flavour of a Xen set-up', () => {
  it('a network-nat set-up without --flavor compiles as xen-nat, the same as with it', async () => {
    const file = join(XEN, 'nat-two-guests.xen');
    const inferred = await runCli(['compile', file]);
    const given = await runCli(['compile', file, '--flavor', 'xen-nat']);
    expect(inferred.code).toBe(0);
    expect(inferred.stdout).toBe(given.stdout);
    expect(inferred.stdout).toContain('-j MASQUERADE');
  });
});
