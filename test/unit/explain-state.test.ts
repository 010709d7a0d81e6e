// explain marks the rules whose verdict depends on more than the packet: state the kernel keeps
// (recent lists, rate meters, quotas, set contents, connection history, the clock) and matches
// virtables cannot evaluate, so a reader sees them without tracing; on a small dump and on the
// TUM firewall (its -m recent and -m limit rules, and -m sctp, which virtables does not evaluate).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { describeCorpus, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

const DUMP = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 22 -m recent --rcheck --seconds 60 --name ssh --rsource -j DROP
-A INPUT -p icmp -m limit --limit 1/sec -j ACCEPT
-A INPUT -m set --match-set blocked src -j DROP
-A INPUT -p tcp -m u32 --u32 "0>>22&0x3C@12>>26&0x3F=0x10" -j DROP
-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
COMMIT
`;

describe('explain: rules that depend on state', () => {
  it('JSON: dependsOn for each such rule, null for the rest', async () => {
    const { stdout, code } = await runCli(['explain', '-', '--format', 'json'], DUMP);
    expect(code).toBe(0);
    const rules = (JSON.parse(stdout) as { rules: Array<{ line: number; dependsOn?: string[] | null }> }).rules;
    expect(rules.map((r) => [r.line, r.dependsOn ?? null])).toEqual([
      [5, ['-m recent: what list ssh held before the packet']],
      [6, ['-m limit: the rate of the matching packets before it']],
      [7, ['-m set: the members of set blocked (ipset contents)']],
      [8, ['-m u32 (virtables does not evaluate this match module)']],
      [9, null],
    ]);
  });
  it('text: the mark follows the sentence', async () => {
    const { stdout } = await runCli(['explain', '-', '--format', 'text'], DUMP);
    expect(stdout).toMatch(/ — depends on state: -m recent: what list ssh held before the packet\n/);
    expect(stdout.match(/depends on state/g)?.length).toBe(4);
  });
});

describeCorpus('explain on the TUM firewall', () => {
  it('every -m recent and -m limit rule is marked, and the -m sctp ones virtables does not evaluate; no other', async () => {
    const original = join(
      SHARED_CORPUS,
      'real-world',
      'configs_chair_for_Network_Architectures_and_Services__iptables-save-2015-05-13_10-53-20',
    );
    // Its MACs are censored (XX:XX:…), which iptables and virtables refuse: read with a placeholder MAC.
    const file = join(mkdtempSync(join(tmpdir(), 'virtables-state-')), 'tum.save');
    writeFileSync(file, read(original).replaceAll('XX:XX:XX:XX:XX:XX', '02:00:00:00:00:01'));
    const { stdout, stderr } = await runCli(['explain', file, '--format', 'json']);
    expect(stderr).toBe('');
    const rules = (JSON.parse(stdout) as { rules: Array<{ line: number; dependsOn?: string[] | null }> }).rules;
    const lines = read(file).split('\n');
    const stateful = lines.flatMap((l, i) => (/^-A .*-m (recent|limit|sctp) /.test(l) ? [i + 1] : []));
    expect(stateful.length).toBeGreaterThan(7);
    expect(rules.filter((r) => r.dependsOn).map((r) => r.line)).toEqual(stateful);
  });
});
