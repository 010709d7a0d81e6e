// Bad dumps: each gives one exact `FILE:LINE:COL: message`.

import { describe, expect, it } from 'vitest';
import { parseSave, parseSaveBytes } from '../../grammar/iptables-save.js';
import { errorOf } from '../helpers/errors.js';

const parse = (text: string) => () => parseSave(text, { file: 'bad.save' });

describe('iptables-save errors name FILE:LINE:COL and what was expected', () => {
  const cases: Array<[string, string, string]> = [
    [
      'rule before *table',
      '-A INPUT -j ACCEPT\n',
      "bad.save:1:1: rule before any '*table' line (expected '*filter', '*nat', … first)",
    ],
    [
      'missing COMMIT',
      '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n',
      "bad.save:4:1: unexpected end of input: table 'filter' (line 1) is not closed with COMMIT (truncated dump?)",
    ],
    [
      'table opened twice',
      '*filter\n*nat\nCOMMIT\n',
      "bad.save:2:1: table 'filter' (line 1) is not closed with COMMIT before '*nat'",
    ],
    [
      'undeclared chain',
      '*filter\n-A LIBVIRT_INP -j ACCEPT\nCOMMIT\n',
      "bad.save:2:4: rule appended to chain 'LIBVIRT_INP', which table 'filter' does not declare (add ':LIBVIRT_INP - [0:0]')",
    ],
    ['COMMIT alone', 'COMMIT\n', "bad.save:1:1: COMMIT without a '*table' line before it"],
    [
      'unterminated quote',
      '*filter\n-A INPUT -m comment --comment "oops -j ACCEPT\nCOMMIT\n',
      'bad.save:2:31: unterminated quoted string',
    ],
    [
      'bad address',
      '*filter\n-A INPUT -s 10.0.0.300 -j ACCEPT\nCOMMIT\n',
      "bad.save:2:13: bad address '10.0.0.300' (expected ADDRESS, ADDRESS/PREFIX or ADDRESS/NETMASK)",
    ],
    ['unknown protocol', '*filter\n-A INPUT -p tcpp -j ACCEPT\nCOMMIT\n', "bad.save:2:13: unknown protocol 'tcpp'"],
    [
      'option outside any module',
      '*filter\n-A INPUT --state NEW -j ACCEPT\nCOMMIT\n',
      "bad.save:2:10: unknown option '--state' (it belongs to no loaded match: add '-m MODULE' or '-p PROTO' before it)",
    ],
    [
      'two targets',
      '*filter\n-A INPUT -j ACCEPT -j DROP\nCOMMIT\n',
      "bad.save:2:20: a second target 'DROP' (the rule already jumps to 'ACCEPT')",
    ],
    [
      'user chain with policy',
      '*filter\n:MINE ACCEPT [0:0]\nCOMMIT\n',
      "bad.save:2:7: user chain 'MINE' cannot have policy 'ACCEPT' (only built-in chains of table 'filter' have policies; expected '-')",
    ],
    [
      'chain declared twice',
      '*filter\n:X - [0:0]\n:X - [0:0]\nCOMMIT\n',
      "bad.save:3:2: chain 'X' declared twice (first at line 2)",
    ],
    [
      'prose',
      'This is not a dump\n',
      "bad.save:1:1: expected '*table', ':CHAIN POLICY', '-A CHAIN …', 'COMMIT' or '# comment', found 'This'",
    ],
    [
      'restore command',
      '*filter\n-F INPUT\nCOMMIT\n',
      "bad.save:2:1: unsupported command '-F' (a dump holds '*table', ':CHAIN', '-A' rules and COMMIT)",
    ],
    [
      'chain without policy',
      '*filter\n:INPUT\nCOMMIT\n',
      "bad.save:2:7: expected a policy after the chain name (':CHAIN POLICY [packets:bytes]'), found end of line",
    ],
    [
      'junk after COMMIT',
      '*filter\nCOMMIT now\n',
      "bad.save:2:8: unexpected 'now' after COMMIT (iptables-restore reads that line as a rule and refuses it)",
    ],
  ];
  it.each(cases)('%s', (_name, text, message) => {
    expect(errorOf(parse(text))).toBe(message);
  });

  it('binary junk: the first NUL byte', () => {
    const bytes = new Uint8Array([...Buffer.from('*filter\n-A IN'), 0, 1, 2, 0xff]);
    expect(errorOf(() => parseSaveBytes(bytes, { file: 'junk.bin' }))).toBe(
      'junk.bin:2:6: binary data (byte 0x00); expected text',
    );
  });

  it('binary junk: invalid UTF-8', () => {
    const bytes = new Uint8Array([...Buffer.from('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACC'), 0xc3, 0x28]);
    expect(errorOf(() => parseSaveBytes(bytes, { file: 'junk.bin' }))).toBe(
      'junk.bin:3:16: binary data (invalid UTF-8); expected text',
    );
  });

  it('a 1 MB line', () => {
    const text = `*filter\n-A INPUT -m comment --comment "${'x'.repeat(1024 * 1024)}" -j ACCEPT\nCOMMIT\n`;
    expect(errorOf(parse(text))).toBe(
      'bad.save:2:1: line is 1048618 characters long (more than 65536); not an iptables-save dump',
    );
  });
});
