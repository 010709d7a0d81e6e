// The seed lab host (corpus/seed-lab/lab-host.save: default, host-only and natted started on
// libvirt 0.6.3, plus query 5's port forward), audited with every check: the lab's queries
// 4 (DNS on host-only), 5 (a web server reachable from outside) and 8 (natted, started last,
// reaches the other networks) come out as findings.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { audit, SEED } from './harness.js';

describe('audit of the seed lab host', () => {
  it('finds queries 4, 5 and 8, and nothing else', async () => {
    const found = await audit({
      name: 'lab',
      dumps: [join(SEED, 'lab-host.save')],
      net: ['default.xml', 'host-only.xml', 'natted.xml'].map((f) => join(SEED, f)),
    });
    expect(found.map((f) => `${f.id} ${f.severity} ${f.network} ${f.location?.line}`)).toEqual([
      'dns-on-isolated-network warning host-only 21',
      'guest-reachable-from-outside warning natted 9',
      'networks-can-reach-each-other warning natted 36',
      'networks-can-reach-each-other warning natted 36',
    ]);
    const reach = found.filter((f) => f.id === 'networks-can-reach-each-other').map((f) => f.message);
    expect(reach[0]).toContain('guests of default');
    expect(reach[1]).toContain('guests of host-only');
    expect(found[1]!.message).toContain('192.168.124.10');
  });
});
