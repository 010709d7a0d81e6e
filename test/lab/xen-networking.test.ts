// The bundled seed lab (corpus/labs/xen-networking): every reference answer passes, and every
// wrong answer fails with the reason a teacher would give — the message names what is wrong
// (the rule that rejects, the missing table, the order), not only that something is.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { REPO_CORPUS } from '../helpers/env.js';

const LAB = join(REPO_CORPUS, 'labs', 'xen-networking');
const ANSWERS = join(LAB, 'answers');

interface Wrong {
  /** The assertion (as written in the sheet) that must fail. */
  readonly failing: string;
  /** Words the failure message must carry. */
  readonly reason: readonly string[];
}

// Per task: its wrong answers, what fails and why.
const WRONG: Readonly<Record<string, Readonly<Record<string, Wrong>>>> = {
  '0.2.1': {
    'wrong-no-nat': {
      failing: "after starting natted, the added rules are exactly libvirt's",
      reason: ['nothing from the nat table', '-A POSTROUTING -s 192.168.124.0/24 ! -d 192.168.124.0/24 -j MASQUERADE'],
    },
    'wrong-whole-dump': {
      failing: "after starting natted, the added rules are exactly libvirt's",
      reason: ['6 rules listed were already in the firewall before natted started'],
    },
  },
  '0.2.2': {
    'wrong-nat-rules': {
      failing: "after starting host-only, the added rules are exactly libvirt's",
      reason: [
        'host-only has no <forward>: libvirt adds no forwarding and no NAT rules for it',
        '3 rules listed that starting host-only does not add',
      ],
    },
    'wrong-no-dns': {
      failing: "after starting host-only, the added rules are exactly libvirt's",
      reason: [
        '2 rules missing',
        "-A INPUT -i virbr1 -p udp -m udp --dport 53 -j ACCEPT (guests on virbr1 may send DNS queries to the host's dnsmasq (port 53))",
      ],
    },
  },
  '4': {
    'wrong-dns-enable-no': {
      failing: 'vm1 -> outside dns : blocked',
      reason: ["names resolve: vm1's query to the host's dnsmasq", "libvirt 0.6.3 does not know <dns enable='no'/>"],
    },
    'wrong-appended': {
      failing: 'vm1 -> outside dns : blocked',
      reason: [
        "'-A INPUT -i virbr1 -p udp -m udp --dport 53 -j ACCEPT'",
        "'iptables -A INPUT -i virbr1 -p udp --dport 53 -j REJECT' comes after it in INPUT, too late",
      ],
    },
    'wrong-udp-only': {
      failing: 'vm1 -> outside dns : blocked',
      reason: [
        "192.168.123.1:53, tcp) is accepted by filter INPUT rule '-A INPUT -i virbr1 -p tcp -m tcp --dport 53 -j ACCEPT'",
      ],
    },
    'wrong-blocks-all': {
      failing: 'vm1 -> host udp/67 : allowed',
      reason: [
        "rejected by filter INPUT rule 'iptables -I INPUT -i virbr1 -j REJECT'",
        'host-only guests still need DHCP',
      ],
    },
    'wrong-typo': {
      failing: 'vm1 -> outside dns : blocked',
      reason: ["the answer's commands did not all run", "rules.txt:2: iptables refuses it: unknown option '--dprot'"],
    },
    'wrong-one-guest': {
      failing: 'vm2 -> outside dns : blocked',
      reason: ["names resolve: vm2's query to the host's dnsmasq", 'Every guest of host-only asks the same dnsmasq'],
    },
  },
  '5': {
    'wrong-appended-accept': {
      failing: 'outside -> host:8080 -> vm1:80 : allowed',
      reason: [
        "rejected by filter FORWARD rule '-A FORWARD -o virbr2 -j REJECT --reject-with icmp-port-unreachable'",
        "'iptables -A FORWARD -d 192.168.124.10 -p tcp --dport 80 -j ACCEPT' comes after it in FORWARD, too late",
      ],
    },
    'wrong-dnat-only': {
      failing: 'outside -> host:8080 -> vm1:80 : allowed',
      reason: [
        "rejected by filter FORWARD rule '-A FORWARD -o virbr2 -j REJECT",
        'natted: everything else entering virbr2 is rejected',
      ],
    },
    'wrong-xenserver-copy': {
      failing: 'outside -> host:8080 -> vm1:80 : allowed',
      reason: [
        'nothing forwards it to vm1 (a DNAT in nat PREROUTING does): it stays for the host itself on port 8080',
        "the answer's 'iptables -A PREROUTING -t nat -p tcp -i xenbr0 --dport 8080 -j DNAT --to 192.168.124.10:80' matches only packets arriving on xenbr0; outside's arrive on eth0",
      ],
    },
    'wrong-port-kept': {
      failing: 'outside -> host:8080 -> vm1:80 : allowed',
      reason: [
        'keeps port 8080: --to-destination 192.168.124.10 names no port, so the guest is asked on 8080, not 80 (write 192.168.124.10:80)',
      ],
    },
    'wrong-chain': {
      failing: 'outside -> host:8080 -> vm1:80 : allowed',
      reason: [
        "'iptables -I INPUT -d 192.168.124.10 -p tcp --dport 80 -j ACCEPT' is in INPUT, which sees only packets for the host itself",
        'rules.txt:2: iptables refuses it: "Invalid argument" (dmesg: x_tables: ip_tables: DNAT target: used from hooks POSTROUTING, but only usable from PREROUTING/OUTPUT)',
      ],
    },
  },
  '6': {
    'wrong-no-masquerade': {
      failing: 'vm1 -> outside : allowed, via vm2',
      reason: [
        'it leaves vm2 as 192.168.50.10 (vm2 does not masquerade it)',
        'the reply never gets back to vm2',
        'outside has no route to 192.168.50.10',
      ],
    },
    'wrong-default-firewall': {
      failing: 'vm1 -> outside tcp/80 : allowed, via vm2',
      reason: [
        "vm2's own firewall does not pass it on: rejected by filter RH-Firewall-1-INPUT rule '-A RH-Firewall-1-INPUT -j REJECT --reject-with icmp-host-prohibited'",
      ],
    },
    'wrong-no-route': {
      failing: 'vm1 -> outside : allowed, via vm2',
      reason: ['vm1 has no route to 203.0.113.10 (vm1 needs a default route through vm2)'],
    },
  },
  '7': {
    'wrong-no-masquerade': {
      failing: 'vm1 -> outside : allowed, via vm2',
      reason: [
        'it leaves vm2 as 192.168.50.10 (vm2 does not masquerade it), then the host: rejected by filter FORWARD rule',
        '-A FORWARD -i virbr2 -j REJECT',
      ],
    },
    'wrong-default-firewall': {
      failing: 'vm1 -> outside tcp/80 : allowed, via vm2',
      reason: ["vm2's own firewall does not pass it on"],
    },
    'wrong-no-route': {
      failing: 'vm1 -> outside tcp/80 : allowed, via vm2',
      reason: ['vm1 needs a default route through vm2'],
    },
  },
  '8': {
    'wrong-nothing-added': {
      failing: 'vm1 <-> vm2 : blocked',
      reason: [
        'after starting natted then natted2',
        'vm2 → vm1 ping: it connects',
        "'-A FORWARD -s 192.168.125.0/24 -i virbr4 -j ACCEPT' (natted2: guests of 192.168.125.0/24 on virbr4 may start connections to anywhere)",
      ],
    },
    'wrong-one-direction': {
      failing: 'vm1 <-> vm2 : allowed',
      reason: [
        'after starting natted2 then natted',
        "vm2 → vm1 ping: rejected by filter FORWARD rule '-A FORWARD -o virbr2 -j REJECT --reject-with icmp-port-unreachable'",
      ],
    },
    'wrong-appended': {
      failing: 'vm1 <-> vm2 : allowed',
      reason: ["'iptables -A FORWARD -i virbr2 -o virbr4 -j ACCEPT' comes after it in FORWARD, too late"],
    },
    'wrong-ping-only': {
      failing: 'vm1 <-> vm2 tcp/22 : blocked',
      reason: ['vm2 → vm1 tcp/22: it connects', 'Not only ping'],
    },
  },
};

interface Graded {
  readonly queries: Array<{
    id: string;
    status: string;
    sheets: Array<{
      results: Array<{ text: string; status: string; message: string; hint: string | null; notes: string[] }>;
    }>;
  }>;
}

async function grade(id: string, variant: string): Promise<{ code: number; report: Graded; stderr: string }> {
  const r = await runCli([
    'lab',
    'check',
    LAB,
    '--only',
    id,
    '--answer',
    join(ANSWERS, id, variant),
    '--format',
    'json',
  ]);
  return { code: r.code, report: JSON.parse(r.stdout || '{"queries":[]}') as Graded, stderr: r.stderr };
}

const variants = (id: string): string[] => readdirSync(join(ANSWERS, id)).sort();

describe('seed lab xen-networking', () => {
  it('every task of lab.txt has answers, and every wrong answer is in the table above', () => {
    const ids = readdirSync(ANSWERS).sort();
    expect(ids).toEqual(Object.keys(WRONG).sort());
    for (const id of ids) {
      const wrong = variants(id).filter((v) => v.startsWith('wrong-'));
      expect(wrong.sort(), id).toEqual(Object.keys(WRONG[id]!).sort());
      expect(wrong.length, `${id} has at least two wrong answers`).toBeGreaterThanOrEqual(2);
      expect(
        variants(id).some((v) => v.startsWith('reference')),
        `${id} has a reference answer`,
      ).toBe(true);
    }
  });

  for (const id of Object.keys(WRONG)) {
    describe(`task ${id}`, () => {
      for (const variant of variants(id).filter((v) => v.startsWith('reference'))) {
        it(`${variant} passes`, async () => {
          const { code, report, stderr } = await grade(id, variant);
          expect(stderr).toBe('');
          const failures = report.queries.flatMap((q) =>
            q.sheets.flatMap((s) => s.results.filter((r) => r.status !== 'pass').map((r) => `${r.text}: ${r.message}`)),
          );
          expect(failures).toEqual([]);
          expect(report.queries.map((q) => q.status)).toEqual(['pass']);
          expect(code).toBe(0);
        });
      }
      for (const [variant, wrong] of Object.entries(WRONG[id]!)) {
        it(`${variant} fails: ${wrong.reason[0]}`, async () => {
          const { code, report, stderr } = await grade(id, variant);
          expect(stderr).toBe('');
          expect(code).toBe(1);
          expect(report.queries[0]!.status).toBe('fail');
          const results = report.queries[0]!.sheets.flatMap((s) => s.results);
          const failed = results.find((r) => r.text === wrong.failing);
          expect(failed, `assertion '${wrong.failing}' among ${results.map((r) => r.text).join(' | ')}`).toBeDefined();
          expect(failed!.status).toBe('fail');
          for (const words of wrong.reason)
            expect([failed!.message, failed!.hint ?? '', ...failed!.notes].join('\n')).toContain(words);
        });
      }
    });
  }

  it('lab list shows the bundled lab and its tasks', async () => {
    const r = await runCli(['lab', 'list', '--format', 'json']);
    expect(r.code).toBe(0);
    const labs = JSON.parse(r.stdout) as Array<{ title: string; entries: Array<{ id: string; sheets: string[] }> }>;
    const lab = labs.find((l) => l.title.startsWith('Networking of Xen VMs'));
    expect(lab?.entries.map((e) => e.id)).toEqual(['0.2.1', '0.2.2', '4', '5', '6', '7', '8']);
    expect(lab?.entries.find((e) => e.id === '8')?.sheets).toEqual(['q8-connect.expect', 'q8-isolate.expect']);
  });

  it('an answer directory without a task sub-directory is reported unanswered (exit 1)', async () => {
    const r = await runCli(['lab', 'check', 'xen-networking', '--answer', join(ANSWERS, '4')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('task 0.2.1 — Changes caused by the natted network: UNANSWERED');
  });
});
