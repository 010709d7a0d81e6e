// `ipset save` read: every set type ipset 7.17 printed on this machine (corpus/ipset/every-type.save)
// and the types its kernel lacks (other-types.save), members typed by the set's dimensions;
// what is not ipset save output is refused with FILE:LINE:COL.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIpsetSave } from '../../grammar/ipset.js';
import { formatCidr, formatHost } from '../../src/model/cidr.js';
import { InputError } from '../../src/model/errors.js';
import { IPSET_TYPES, type IpSet, type IpsetPart } from '../../src/model/ipset.js';
import { REPO_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

const DIR = join(REPO_CORPUS, 'ipset');

function partText(p: IpsetPart): string {
  switch (p.kind) {
    case 'ip':
      return p.lo === p.hi ? formatHost(p.family, p.lo) : `${formatHost(p.family, p.lo)}-${formatHost(p.family, p.hi)}`;
    case 'net':
      return formatCidr(p.cidr);
    case 'port':
      return `${p.proto ?? '*'}:${p.lo === p.hi ? p.lo : `${p.lo}-${p.hi}`}`;
    case 'mac':
      return p.mac ?? '(no mac)';
    case 'iface':
      return `${p.physdev ? 'physdev:' : ''}${p.name}`;
    case 'mark':
      return `0x${p.mark.toString(16)}`;
    case 'set':
      return `set ${p.name}`;
  }
}

const members = (s: IpSet): string[] =>
  s.members.map((m) => `${m.parts.map(partText).join(',')}${m.nomatch ? ' nomatch' : ''}`);

describe('ipset save', () => {
  const every = parseIpsetSave(read(join(DIR, 'every-type.save')), 'every-type.save');
  const other = parseIpsetSave(read(join(DIR, 'other-types.save')), 'other-types.save');
  const byName = new Map([...every.sets, ...other.sets].map((s) => [s.name, s]));

  it('reads every set type ipset 7.x knows', () => {
    expect(new Set([...byName.values()].map((s) => s.type))).toEqual(new Set(Object.keys(IPSET_TYPES)));
  });

  it.each([
    ['hip', 'hash:ip', 4, ['10.0.0.1', '10.0.0.2']],
    ['hip6', 'hash:ip', 6, ['2001:db8::']],
    ['hnet', 'hash:net', 4, ['10.1.0.0/16', '192.168.5.5/32', '172.16.0.0/30', '172.16.0.4/31', '10.1.2.0/24 nomatch']],
    ['hnet6', 'hash:net', 6, ['2001:db8:1::/48', '2001:db8:1:2::/64 nomatch']],
    [
      'hipport',
      'hash:ip,port',
      4,
      [
        '10.0.0.9,6:22',
        '10.0.0.1,1:2048',
        '10.0.0.2,6:80',
        '10.0.0.1,1:769',
        '10.0.0.1,17:53',
        '10.0.0.9,253:0',
        '10.0.0.4,47:0',
        '10.0.0.1,6:80',
        '10.0.0.3,132:99',
      ],
    ],
    [
      'hnetport6',
      'hash:net,port',
      6,
      ['2001:db8::/32,6:443', '2001:db8:1::2/128,58:51200', '2001:db8:1::1/128,58:32768'],
    ],
    ['hnetiface', 'hash:net,iface', 4, ['10.2.0.0/16,physdev:vnet0', '10.0.0.0/8,eth0', '10.3.0.0/16,eth1 nomatch']],
    ['bport', 'bitmap:port', null, ['*:22', '*:80', '*:81', '*:82']],
    ['bip', 'bitmap:ip', 4, ['192.168.0.16']],
    ['bipmac', 'bitmap:ip,mac', 4, ['10.0.0.5,52:54:00:aa:bb:cc', '10.0.0.6,(no mac)']],
    ['hipportip', 'hash:ip,port,ip', 4, ['10.0.0.1,6:22,10.0.0.2']],
    ['hipportnet', 'hash:ip,port,net', 4, ['10.0.0.1,6:22,10.9.0.0/16']],
    ['bm', 'hash:ip', 4, ['10.5.0.0']],
    ['empty', 'hash:net', 6, []],
    ['lst', 'list:set', null, ['set hip', 'set hnet']],
    ['mac', 'hash:mac', null, ['52:54:00:11:22:33']],
    ['ipmac', 'hash:ip,mac', 4, ['10.0.0.7,52:54:00:11:22:33']],
    ['netnet', 'hash:net,net', 4, ['10.0.0.0/8,192.168.0.0/16', '10.1.0.0/16,192.168.1.0/24 nomatch']],
    ['netportnet', 'hash:net,port,net', 4, ['10.0.0.0/8,17:53,10.9.0.0/16']],
    ['ipmark', 'hash:ip,mark', 4, ['10.0.0.1,0x10']],
  ] as const)('%s: %s, IPv%s, its members', (name, type, family, want) => {
    const s = byName.get(name)!;
    expect(s.type).toBe(type);
    expect(s.family).toBe(family);
    expect(members(s)).toEqual(want);
  });

  it('keeps create and add options with their positions', () => {
    const hip = byName.get('hip')!;
    expect(hip.options.map((o) => o.name)).toEqual([
      'family',
      'hashsize',
      'maxelem',
      'timeout',
      'counters',
      'comment',
      'bucketsize',
      'initval',
    ]);
    expect(hip.members[0]!.options.map((o) => [o.name, o.value])).toEqual([
      ['timeout', '0'],
      ['packets', '5'],
      ['bytes', '300'],
      ['comment', 'a host'],
    ]);
    expect(hip.members[0]!.pos).toEqual({ line: 2, col: 1 });
    expect(byName.get('c')!.members[0]!.options[0]!.value).toBe('with space, and: punct ! # $');
  });

  it('splits a hash:net range into the CIDRs ipset stores, and reads restore-file spellings', () => {
    const s = parseIpsetSave(
      'create n hash:net\nadd n 172.16.0.0-172.16.0.5\ncreate p hash:ip,port\nadd p 10.0.0.1,80-82\nadd p 10.0.0.2,ssh\n',
      'f',
    );
    expect(members(s.sets[0]!)).toEqual(['172.16.0.0/30', '172.16.0.4/31']);
    expect(members(s.sets[1]!)).toEqual(['10.0.0.1,6:80-82', '10.0.0.2,6:22']);
  });

  it('takes CRLF, lone CR, comments and blank lines', () => {
    const s = parseIpsetSave('# saved\r\ncreate a hash:ip\r\n\radd a 10.0.0.1\n\nadd a 10.0.0.2', 'f');
    expect(members(s.sets[0]!)).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it.each([
    ['create x hash:foo\n', 'f:1:10: unknown set type'],
    ['create x hash:ip\nadd x 10.0.0.300\n', "f:2:7: '10.0.0.300' is not an IPv4 address"],
    ['create x hash:ip family inet6\nadd x 10.0.0.1\n', "f:2:7: '10.0.0.1' is not an IPv6 address"],
    ['add y 1.2.3.4\n', "f:1:5: add to set y, which no earlier 'create' line makes"],
    ['create x hash:ip bogus 3\n', "f:1:18: unknown create option 'bogus'"],
    ['create x hash:ip\nadd x 1.2.3.4 comment "abc\n', 'f:2:23: unclosed quote'],
    ['create x hash:net\nadd x 1.0.0.0/8,eth0\n', "f:2:7: '1.0.0.0/8,eth0' has 2 part(s); a hash:net member has 1"],
    ['create x hash:ip,port\nadd x 1.2.3.4,icmp:foo\n', "f:2:15: bad ICMP type 'foo'"],
    ['create x hash:ip,port\nadd x 1.2.3.4,tcp:70000\n', "f:2:15: bad port range '70000'"],
    ['create x hash:ip\nadd x 1.2.3.4 nomatch\n', 'f:2:15: hash:ip members cannot be nomatch'],
    ['create x hash:ip\ncreate x hash:net\n', 'f:2:8: set x is created twice'],
    ['create l list:set\nadd l nope\n', 'f:2:7: list:set l: no set nope was created before it'],
    ['create x bitmap:port range 1-100\nadd x icmp:ping\n', 'f:2:7: bitmap:port holds TCP and UDP ports'],
    ['create x hash:ip netmask 33\n', "f:1:18: netmask takes a prefix length (1-32), not '33'"],
    ['create x hash:net\nadd x 0.0.0.0/0\n', "f:2:7: '0.0.0.0/0': ipset refuses a /0 network"],
    ['create aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa hash:ip\n', 'longer than 31 characters'],
    [
      '*filter\n:INPUT ACCEPT [0:0]\n',
      "f:1:1: unexpected '*filter': expected 'create NAME TYPE …' or 'add NAME MEMBER …'",
    ],
  ])('refuses %j', (text, message) => {
    let err: unknown;
    try {
      parseIpsetSave(text, 'f');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(message);
  });
});
