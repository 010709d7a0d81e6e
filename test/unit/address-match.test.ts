// A rule's -s/-d is its own Cidr (family, network, prefix, mask) with the negation and the text as written; an
// address other than plain IPv4 is read once and its match shared by the rules that write it alike.

import { describe, expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { formatCidr } from '../../src/model/cidr.js';
import type { Dump, Rule } from '../../src/model/dump.js';

function rulesOf(dump: Dump): Rule[] {
  return dump.tables.flatMap((t) => t.chains.flatMap((c) => c.rules));
}

describe('address matches', () => {
  it('are their own Cidr, with the negation and the text as written', () => {
    const [plain, dotted, negated] = rulesOf(
      parseSave(
        `*filter
:FORWARD ACCEPT [0:0]
-A FORWARD -s 10.0.0.5/24 -j ACCEPT
-A FORWARD -d 192.168.1.0/255.255.255.0 -j ACCEPT
-A FORWARD ! -s 10.1.0.0/16 -j DROP
COMMIT
`,
        { file: 'v4.save', family: 'ipv4' },
      ),
    );
    expect(plain!.source).toMatchObject({ family: 4, network: 0x0a000000n, prefix: 24, negated: false });
    expect(plain!.source!.written).toBe('10.0.0.5/24');
    expect(formatCidr(plain!.source!)).toBe('10.0.0.0/24');
    expect(dotted!.destination).toMatchObject({ prefix: 24, written: '192.168.1.0/255.255.255.0' });
    expect(dotted!.destination!.mask).toBeUndefined();
    expect(formatCidr(dotted!.destination!)).toBe('192.168.1.0/24');
    expect(negated!.source).toMatchObject({ negated: true, prefix: 16 });
  });

  it('are shared between rules that write an IPv6 address alike, not between plain and negated', () => {
    const rules = rulesOf(
      parseSave(
        `*filter
:FORWARD ACCEPT [0:0]
-A FORWARD -s fd00::/64 -j ACCEPT
-A FORWARD -s fd00::/64 -p tcp -j ACCEPT
-A FORWARD ! -s fd00::/64 -j DROP
-A FORWARD -s fd00:0::/64 -j DROP
COMMIT
`,
        { file: 'v6.save', family: 'ipv6' },
      ),
    );
    const [a, b, not, other] = rules.map((r) => r.source!);
    expect(b).toBe(a);
    expect(not).not.toBe(a);
    expect(not!.negated).toBe(true);
    // Written otherwise: its own match (its text as written), the same address.
    expect(other).not.toBe(a);
    expect(other!.written).toBe('fd00:0::/64');
    expect(other!.network).toBe(a!.network);
    expect(rules.map((r) => formatCidr(r.source!))).toEqual(Array(4).fill('fd00::/64'));
  });
});
