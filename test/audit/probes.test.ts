// The audit's simulated host: chains compiled on first use must decide exactly as the whole
// dump compiled at once (the simulator's own compileDump), jumps included.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSaveBytes } from '../../grammar/iptables-save.js';
import { inferNetworks, networksFromDefinitions } from '../../src/explain/attribute.js';
import { buildProbes } from '../../src/audit/probes.js';
import { compileDump } from '../../src/sim/compile.js';
import { readBytesFromDisk } from '../../src/input/disk.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { AUDIT, SEED } from './harness.js';

const V6 = join(AUDIT, '..', 'libvirt-ipv6', 'e-three-dual-stack');
const CASES: Array<{ dump: string; nets: string[]; family?: 4 | 6 }> = [
  // The IPv6 host of a real dual-stack capture (nat, route and isolated networks), probed in family 6.
  { dump: join(V6, 'after.ip6.txt'), nets: [1, 2, 3].map((i) => join(V6, `network${i}.xml`)), family: 6 },
  { dump: join(SEED, 'lab-host.save'), nets: ['default.xml', 'host-only.xml', 'natted.xml'].map((f) => join(SEED, f)) },
  { dump: join(AUDIT, 'conflict-ufw/ufw-then-libvirt.save'), nets: [join(SEED, 'natted.xml')] },
  { dump: join(AUDIT, 'conflict-firewalld/firewalld-only.save'), nets: [join(SEED, 'natted.xml')] },
  { dump: join(AUDIT, 'guest-reachable-from-outside/port-forward.save'), nets: [join(SEED, 'natted.xml')] },
  { dump: join(AUDIT, 'natted+routed.save'), nets: [join(SEED, 'natted.xml'), join(AUDIT, 'routed.xml')] },
];

describe('audit probes', () => {
  it.each(CASES.map((c) => [c.dump.split('/').slice(-2).join('/'), c] as const))(
    '%s: lazily compiled chains decide as the whole dump compiled',
    (_, c) => {
      const dump = parseSaveBytes(readBytesFromDisk(c.dump), { file: c.dump });
      const given = networksFromDefinitions(
        c.nets.flatMap((f) => readNetworks(new TextDecoder().decode(readBytesFromDisk(f)), f)),
      );
      const networks = inferNetworks([dump], given);
      const family = c.family ?? 4;
      const lazy = buildProbes(dump, networks, undefined, family);
      const eager = buildProbes(dump, networks, compileDump(dump, family), family);
      expect(lazy.subjects.every((s) => s.family === family)).toBe(true);
      const verdicts = (p: typeof lazy) =>
        p.subjects.flatMap((s) =>
          [
            p.out(s),
            p.in(s),
            p.dns(s),
            p.stranger(s),
            ...p.subjects.filter((t) => t !== s).map((t) => p.pair(s, t)),
          ].map(
            (r) => `${r.request.verdict} ${r.request.decidedBy?.rule?.rule?.line ?? '-'} ${r.reply?.verdict ?? '-'}`,
          ),
        );
      expect(lazy.subjects.length).toBeGreaterThan(0);
      expect(verdicts(lazy)).toEqual(verdicts(eager));
      expect(lazy.portForwards.map((p) => p.result.request.verdict)).toEqual(
        eager.portForwards.map((p) => p.result.request.verdict),
      );
    },
  );
});
