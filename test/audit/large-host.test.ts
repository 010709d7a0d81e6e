// A host with many networks: each finding names a few of the hosts it traced and counts the rest, so
// a message stays readable on a host with hundreds of networks (shadowed-rule listed every source).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { SEED } from './harness.js';

const N = 8;
const networkXml = (i: number): string =>
  `<network>\n  <name>net${i}</name>\n  <forward mode='nat'/>\n  <bridge name='virbr${10 + i}'/>\n` +
  `  <ip address='10.0.${i}.1' netmask='255.255.255.0'/>\n</network>\n`;

it(`shadowed-rule on ${N} networks names three other sources and counts the rest`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'virtables-large-'));
  const nets = Array.from({ length: N }, (_, i) => {
    const file = join(dir, `net${i}.xml`);
    writeFileSync(file, networkXml(i));
    return file;
  });
  const compiled = await runCli([
    'compile',
    ...nets,
    '--flavor',
    'libvirt-legacy',
    '--libvirt-version',
    '0.6.3',
    '--base',
    join(SEED, 'clean-host.save'),
  ]);
  expect(compiled.code).toBe(0);
  // The seed lab's query-5 mistake on net0: an accept appended below libvirt's REJECTs.
  const dump = compiled.stdout.replace(
    /(\*filter\n[^]*?)COMMIT/,
    '$1-A FORWARD -d 10.0.0.10/32 -p tcp -m tcp --dport 80 -j ACCEPT\nCOMMIT',
  );
  expect(dump).not.toBe(compiled.stdout);
  const file = join(dir, 'host.save');
  writeFileSync(file, dump);
  const audit = await runCli(['audit', file, ...nets.flatMap((n) => ['--net', n]), '--format', 'json']);
  const findings = (JSON.parse(audit.stdout) as { findings: Array<{ id: string; message: string }> }).findings;
  const never = findings.filter((f) => f.id === 'shadowed-rule' && f.message.includes('can never match'));
  expect(never).toHaveLength(1);
  // outside, then a host on another link and a guest of each of the seven other networks: 8 others.
  expect(never[0]!.message).toMatch(/; so is the packet from [^;]+, [^;]+, [^;]+ and 5 more \(traced in order\)$/);
});
