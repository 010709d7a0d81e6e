// compileEach (src/engine/compile.ts) hands a program's commands over in batches: the set-up,
// then each network's, as they are made. Joined, the batches must be compile's commands, with
// the same era and notes, for every flavour, and a batch must hold one network's commands only
// (the audit drops each batch's commands before the next network is compiled).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, compileEach, type CompileOptions } from '../../src/engine/compile.js';
import type { Command } from '../../src/engine/program.js';
import type { AnyNetwork, Network } from '../../src/model/network.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { readXenSetup } from '../../src/network/xen-setup.js';
import { describeCorpus, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { walk } from '../helpers/files.js';

const libvirtOf = (path: string): Network[] => readNetworks(readFileSync(path, 'utf8'), path);

function batchesOf(networks: readonly AnyNetwork[], options: CompileOptions) {
  const batches: Array<readonly Command[]> = [];
  const info = compileEach(networks, options, (commands) => batches.push(commands));
  return { info, batches };
}

/** compileEach's batches joined are compile's program; each batch is the set-up's or one network's. */
function agrees(networks: readonly AnyNetwork[], options: CompileOptions): void {
  const program = compile(networks, options);
  const { info, batches } = batchesOf(networks, options);
  expect(batches.flat()).toEqual(program.commands);
  expect(info).toEqual({ flavor: program.flavor, era: program.era, networks: program.networks, notes: program.notes });
  if (options.flavor === 'libvirt-nft') return;
  for (const batch of batches) {
    const own = new Set(batch.filter((c) => !c.setup).map((c) => c.network));
    expect(own.size).toBeLessThanOrEqual(1);
  }
}

const LIBVIRT: CompileOptions[] = [
  { flavor: 'libvirt' },
  { flavor: 'libvirt', libvirtVersion: '6.0.0' },
  { flavor: 'libvirt-legacy', libvirtVersion: '0.6.3' },
  { flavor: 'libvirt-legacy', libvirtVersion: '0.8.3' },
  { flavor: 'libvirt-legacy', libvirtVersion: '4.0.0' },
  { flavor: 'libvirt-nft' },
];

describe('compileEach', () => {
  const lab = ['natted', 'host-only', 'natntw', 'hostntw', 'default'].map((n) =>
    join(REPO_CORPUS, 'seed-lab', `${n}.xml`),
  );
  const networks = lab.flatMap(libvirtOf);

  it("hands the libvirt flavours' programs over as compile makes them, one network a batch after the set-up", () => {
    for (const options of LIBVIRT) agrees(networks, options);
    const { batches } = batchesOf(networks, { flavor: 'libvirt' });
    // The private chains' set-up once, then the five networks in start order.
    expect(batches).toHaveLength(1 + networks.length);
    expect(batches[0]!.every((c) => c.setup)).toBe(true);
    expect(batches.slice(1).map((b) => b[0]?.network)).toEqual(networks.map((n) => n.name));
  });

  it('makes a batch only when it is asked for: the first network is compiled before the second is looked at', () => {
    const seen: string[] = [];
    const watched = networks.map(
      (n) => new Proxy(n, { get: (t, k) => (k === 'ips' && seen.push(t.name), Reflect.get(t, k)) }),
    );
    compileEach(watched, { flavor: 'libvirt-legacy', libvirtVersion: '0.8.3' }, (commands) => {
      const names = new Set(commands.map((c) => c.network));
      expect([...names]).toEqual([seen.at(-1)]);
    });
    expect(new Set(seen)).toEqual(new Set(networks.map((n) => n.name)));
  });

  it('hands a Xen set-up over the same way', () => {
    const path = join(REPO_CORPUS, 'xen-setup', 'nat-two-guests.xen');
    const xen = readXenSetup(readFileSync(path, 'utf8'), path);
    for (const xenVersion of ['3.0.0', '3.2', '4.4']) agrees([xen], { flavor: `xen-${xen.mode}`, xenVersion });
  });

  it('refuses what compile refuses, before any batch', () => {
    const taken: unknown[] = [];
    expect(() => compileEach(networks, { flavor: 'xen-nat' }, (c) => taken.push(c))).toThrow(/libvirt network/);
    expect(() => compileEach(networks, { flavor: 'libvirt', libvirtVersion: '4.0.0' }, (c) => taken.push(c))).toThrow(
      /libvirt-legacy/,
    );
    expect(taken).toEqual([]);
  });
});

describeCorpus("compileEach on libvirt's network XML test vectors", () => {
  const files = walk(join(SHARED_CORPUS, 'libvirt')).filter((f) => f.endsWith('.xml'));

  it('joins to compile for every vector, alone and all of them started in turn', () => {
    const all: Network[] = [];
    for (const file of files) {
      let networks: Network[];
      try {
        networks = libvirtOf(file);
      } catch {
        continue; // a vector libvirt itself refuses: the reader's tests cover it
      }
      const compiles = LIBVIRT.filter((options) => {
        try {
          compile(networks, options);
          return true;
        } catch {
          return false;
        }
      });
      for (const options of compiles) agrees(networks, options);
      // Started in turn: those both the 5.1+ and the 0.8.3 rules take (0.8.3 refuses an IPv6 <ip>).
      if (compiles.includes(LIBVIRT[0]!) && compiles.includes(LIBVIRT[3]!)) all.push(...networks);
    }
    expect(all.length).toBeGreaterThan(20);
    agrees(all, { flavor: 'libvirt' });
    agrees(all, { flavor: 'libvirt-legacy', libvirtVersion: '0.8.3' });
  });
});
