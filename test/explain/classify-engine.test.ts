// The classifier recognises every rule the engine derives, with the engine's own purpose and
// sentence: explanation of a dump and compilation of a network cannot drift apart.

import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyRule } from '../../src/explain/classify.js';
import { compile } from '../../src/engine/compile.js';
import { LEGACY_BOUNDARIES } from '../../src/engine/libvirt-legacy.js';
import type { Flavor } from '../../src/engine/program.js';
import { why } from '../../src/engine/why.js';
import type { Network } from '../../src/model/network.js';
import { XEN_BOUNDARIES } from '../../src/engine/xen-common.js';
import { readXenSetup } from '../../src/network/xen-setup.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { describeCorpus, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { read, walk } from '../helpers/files.js';

const eras: Array<{ flavor: Flavor; version?: string }> = [
  { flavor: 'libvirt' },
  { flavor: 'libvirt', version: '5.1.0' },
  { flavor: 'libvirt-legacy' },
  ...[...new Set(LEGACY_BOUNDARIES.map((b) => b.since))].map((version) => ({
    flavor: 'libvirt-legacy' as const,
    version,
  })),
  { flavor: 'libvirt-legacy', version: '0.6.3' },
];

function agreement(networks: Network[], label: string): void {
  for (const era of eras) {
    let program;
    try {
      program = compile(networks, { flavor: era.flavor, ...(era.version ? { libvirtVersion: era.version } : {}) });
    } catch {
      continue; // e.g. an IPv6 network in an era before IPv6 networks
    }
    for (const command of program.commands) {
      const effect = command.effect;
      if (effect.kind !== 'insert' && effect.kind !== 'append') continue;
      const found = classifyRule(effect.rule, effect.family);
      const where = `${label} ${era.flavor}${era.version ? `@${era.version}` : ''}: ${command.argv.join(' ')}`;
      expect(found?.purpose, where).toBe(command.purpose);
      expect(why(found!.purpose, { ...found!.context, network: command.network }), where).toBe(command.why);
    }
  }
}

describe('classifier == engine on the seed lab networks', () => {
  for (const file of walk(join(REPO_CORPUS, 'seed-lab')).filter((f) => f.endsWith('.xml'))) {
    it(basename(file), () => agreement(readNetworks(read(file), file), basename(file)));
  }
});

describeCorpus('classifier == engine on libvirt test vectors', () => {
  const files = ['libvirt/firewall', 'libvirt/firewall-legacy', 'libvirt/xml']
    .flatMap((d) => walk(join(SHARED_CORPUS, d)))
    .filter((f) => f.endsWith('.xml') && !f.includes('expected-out'));
  const usable = files.flatMap((f) => {
    try {
      return [[basename(f), readNetworks(read(f), f)] as const];
    } catch {
      return []; // the inputs libvirt itself rejects
    }
  });
  it.each(usable)('%s', (name, networks) => agreement(networks, name));
});

describe('classifier == engine on the Xen scripts (every era)', () => {
  const setups = walk(join(REPO_CORPUS, 'xen')).filter((f) => f.endsWith('.xen'));
  const versions = ['3.0.0', ...XEN_BOUNDARIES.map((b) => b.since).filter((v) => v !== '4.5'), '4.4'];
  it.each(setups.map((f) => [f.slice(REPO_CORPUS.length + 1), f]))('%s', (_name, file) => {
    const network = readXenSetup(read(file), file);
    for (const xenVersion of versions) {
      const program = compile([network], { flavor: `xen-${network.mode}`, xenVersion });
      for (const command of program.commands) {
        const effect = command.effect;
        if (effect.kind !== 'insert' && effect.kind !== 'append') continue;
        const found = classifyRule(effect.rule, effect.family);
        const where = `xen ${xenVersion}: ${command.argv.join(' ')}`;
        expect(found?.purpose, where).toBe(command.purpose);
        expect(why(found!.purpose, { ...found!.context, network: command.network }), where).toBe(command.why);
      }
    }
  });
});
