// `npm start` (virtables demo) runs on the bundled seed-lab host and shows each step.

import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('virtables demo', () => {
  it('shows the networks, what starting them changed, and every rule explained', async () => {
    const r = await runCli(['demo']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("# The lab host's networks, as their XML defines them");
    expect(r.stdout).toContain('starting natted (virbr2, 192.168.124.0/24) added 12 rules: NAT:');
    expect(r.stdout).toContain(
      '-A PREROUTING -i eth0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.124.10:80  [natted]',
    );
    expect(r.stdout).toContain('== host-only (virbr1, 192.168.123.0/24): isolated');
    // the audit finds the lab's queries 4, 5 and 8
    expect(r.stdout).toMatch(/warning dns-on-isolated-network +corpus\/seed-lab\/lab-host\.save:21/);
    expect(r.stdout).toMatch(/warning guest-reachable-from-outside +corpus\/seed-lab\/lab-host\.save:9/);
    expect(r.stdout).toMatch(/warning networks-can-reach-each-other/);
    expect(r.stdout).toContain('4 findings: 0 errors, 4 warnings, 0 info');
    // and the matrix shows the web server reachable from outside, the others not
    const tcp80 = r.stdout.slice(r.stdout.indexOf('│ tcp/80'));
    expect(tcp80.split('\n').find((l) => l.startsWith('│ outside'))).toMatch(
      /│ outside +│ rejected +│ rejected +│ rejected +│ ok +│ — +│/,
    );
  });
});
