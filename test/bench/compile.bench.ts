// How long compile takes from network model to printed dump: one network (the seed lab's
// natted), and a host with 100 networks (the seed lab's natted renumbered 100 times).

import { join } from 'node:path';
import { bench, describe } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { applyProgram, emptyHostState } from '../../src/engine/apply.js';
import { compile } from '../../src/engine/compile.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { formatProgramArgs } from '../../src/write/args.js';
import { formatDump } from '../../src/write/save.js';
import { REPO_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

const lab = join(REPO_CORPUS, 'seed-lab');
const natted = read(join(lab, 'natted.xml'));
const one = readNetworks(natted, 'natted.xml');
const hundred = Array.from(
  { length: 100 },
  (_, i) =>
    readNetworks(
      natted
        .replace('natted', `natted${i}`)
        .replace('virbr2', `virbr${i + 10}`)
        .replaceAll('192.168.124.', `10.${i}.0.`),
      `natted${i}.xml`,
    )[0]!,
);
const host = parseSave(read(join(lab, 'clean-host.save')), { file: 'clean-host.save' });

describe('compile', () => {
  bench('1 network → save (libvirt)', () => {
    formatDump(applyProgram(compile(one, { flavor: 'libvirt' }), emptyHostState()).ipv4);
  });
  bench('1 network → args (libvirt-nft)', () => {
    formatProgramArgs(compile(one, { flavor: 'libvirt-nft' }));
  });
  bench('100 networks → save on the lab host (libvirt-legacy 0.6.3)', () => {
    const base = { ...emptyHostState(), ipv4: host };
    formatDump(applyProgram(compile(hundred, { flavor: 'libvirt-legacy', libvirtVersion: '0.6.3', base }), base).ipv4);
  });
  bench('100 networks → save (libvirt)', () => {
    formatDump(applyProgram(compile(hundred, { flavor: 'libvirt' }), emptyHostState()).ipv4);
  });
});
