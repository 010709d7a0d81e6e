// The Xen reader on the project's own fixtures (corpus/xen): each host/guest set reads into
// the XenNetwork whose vifs and addresses match a real capture's scenario (corpus/xen/README.md),
// and broken configurations give positioned errors.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDomainConfig, parseSxp } from '../../grammar/xen-config.js';
import type { XenNetwork } from '../../src/model/network.js';
import { inputKind, readXendConfig, readXenNetwork, type XenSource } from '../../src/network/xen.js';
import { REPO_CORPUS } from '../helpers/env.js';
import { errorOf } from '../helpers/errors.js';

const XEN = join(REPO_CORPUS, 'xen');
const source = (path: string, domid?: number): XenSource => ({
  text: readFileSync(join(XEN, path), 'utf8'),
  file: path,
  ...(domid === undefined ? {} : { domid }),
});

const vifsOf = (n: XenNetwork) => n.vifs.map((v) => ({ name: v.name, ips: v.ips, bridge: v.bridge, mac: v.mac }));

describe('Xen host and guest configurations (corpus/xen)', () => {
  it('bridge: xend-config-bridge.sxp + web.cfg (dom 1) + db.cfg (dom 2) = head-vif-bridge-ip', () => {
    const network = readXenNetwork(source('xend-config-bridge.sxp'), [
      source('domains/web.cfg'),
      source('domains/db.cfg'),
    ]);
    expect({ ...network, vifs: vifsOf(network) }).toEqual({
      kind: 'xen',
      name: 'xen-bridge',
      mode: 'bridge',
      netdev: 'eth0',
      bridge: null,
      antispoof: false,
      vifs: [
        { name: 'vif1.0', ips: ['10.0.0.5', '10.0.0.6/31'], bridge: 'xenbr0', mac: '00:16:3e:00:01:00' },
        { name: 'vif2.0', ips: [], bridge: 'xenbr0', mac: '00:16:3e:00:02:00' },
      ],
      origin: { file: 'xend-config-bridge.sxp', pos: { line: 11, col: 1 } },
    });
    expect(network.vifs.map((v) => [v.domid, v.devid, v.origin.file, v.origin.pos.line])).toEqual([
      [1, 0, 'domains/web.cfg', 7],
      [2, 0, 'domains/db.cfg', 5],
    ]);
  });

  it("nat: a guest without ip= gets vif-nat's default address (head-vif-nat, domain 3)", () => {
    const network = readXenNetwork(source('xend-config-nat.sxp'), [source('domains/nat-guest.cfg', 3)]);
    expect([network.name, network.mode, network.netdev, network.bridge, network.antispoof]).toEqual([
      'xen-nat',
      'nat',
      'eth0',
      null,
      false,
    ]);
    expect(vifsOf(network)).toEqual([{ name: 'vif3.0', ips: ['10.0.3.1/16'], bridge: null, mac: '00:16:3e:00:03:00' }]);
  });

  it('nat: the second interface of domain 5 is vif5.1 (head-vif-nat-ip)', () => {
    const network = readXenNetwork(source('xend-config-nat.sxp'), [source('domains/two-nics.cfg', 5)]);
    expect(vifsOf(network)).toEqual([
      { name: 'vif5.0', ips: ['10.0.5.1/16'], bridge: null, mac: '00:16:3e:00:05:00' },
      { name: 'vif5.1', ips: ['192.168.50.10'], bridge: null, mac: '00:16:3e:00:05:01' },
    ]);
  });

  it('route: xl syntax with semicolons (head-vif-route, domain 4)', () => {
    const network = readXenNetwork(source('xend-config-route.sxp'), [source('domains/routed.cfg', 4)]);
    expect([network.name, network.mode, network.netdev]).toEqual(['xen-route', 'route', 'eth0']);
    expect(vifsOf(network)).toEqual([{ name: 'vif4.0', ips: ['10.0.0.7'], bridge: null, mac: null }]);
  });

  it('antispoof: netdev, bridge and antispoof from the quoted script line; vif-script bridge= is the default bridge', () => {
    const network = readXenNetwork(source('xend-config-antispoof.sxp'), [source('domains/routed.cfg')]);
    expect([network.name, network.mode, network.netdev, network.bridge, network.antispoof]).toEqual([
      'xenbr1',
      'bridge',
      'eth1',
      'xenbr1',
      true,
    ]);
    expect(vifsOf(network)).toEqual([{ name: 'vif1.0', ips: ['10.0.0.7'], bridge: 'xenbr1', mac: null }]);
    expect(network.origin.pos).toEqual({ line: 3, col: 1 });
  });

  it("guests without a host config get Xen's default: vif-bridge, no network script", () => {
    const network = readXenNetwork(null, [source('domains/web.cfg')]);
    expect([network.mode, network.netdev, network.origin.file]).toEqual(['bridge', 'eth0', 'domains/web.cfg']);
  });

  it('tells XML, xend-config and domain configurations apart', () => {
    expect(
      ['xend-config-nat.sxp', 'domains/web.cfg'].map((f) => inputKind(readFileSync(join(XEN, f), 'utf8'))),
    ).toEqual(['xend', 'domain']);
    expect(inputKind('<?xml version="1.0"?><network/>')).toBe('xml');
    expect(inputKind('')).toBe('xml');
  });
});

describe('the s-expression and domain-config grammars', () => {
  it('reads nested lists, quoted strings and comments with positions', () => {
    const lists = parseSxp('# c\n(a (b \'c d\') "e") # tail\n(f)', 's.sxp');
    expect(lists.map((l) => l.pos)).toEqual([
      { line: 2, col: 1 },
      { line: 3, col: 1 },
    ]);
    expect(
      JSON.stringify(
        lists[0]!.items.map((i) =>
          i.kind === 'atom' ? i.text : i.items.map((j) => (j.kind === 'atom' ? j.text : '?')),
        ),
      ),
    ).toBe('["a",["b","c d"],"e"]');
  });

  it('reads lists with trailing commas, numbers, bare names and line continuations', () => {
    const a = parseDomainConfig("memory = 512\non_crash = destroy\nvif = [ 'a', \\\n 'b', ]\n", 'd.cfg');
    expect(a.map((x) => [x.key, x.value.kind])).toEqual([
      ['memory', 'number'],
      ['on_crash', 'name'],
      ['vif', 'list'],
    ]);
  });

  const errors: Array<[string, () => unknown, string]> = [
    [
      'unclosed list',
      () => parseSxp('(network-script network-nat\n(vif-script vif-nat)\n', 'x.sxp'),
      "x.sxp:3:1: unexpected end of input: '(' at line 1, column 1 is not closed with ')'",
    ],
    ['stray )', () => parseSxp('(a))', 'x.sxp'), "x.sxp:1:4: ')' without a matching '('"],
    [
      'not an s-expression',
      () => parseSxp('network-script = network-nat', 'x.sxp'),
      "x.sxp:1:1: expected '(' to start an entry, found 'network-script' (xend-config.sxp holds (name value …) entries)",
    ],
    [
      'unterminated string',
      () => parseSxp("(network-script 'network-nat)", 'x.sxp'),
      "x.sxp:1:17: string is not closed (no matching ' on this line)",
    ],
    [
      'unknown network script',
      () => readXendConfig('(network-script network-magic)', 'x.sxp'),
      "x.sxp:1:17: unknown network-script 'network-magic' (expected network-bridge, network-nat, network-route or network-dummy)",
    ],
    [
      'mismatched vif script',
      () => readXendConfig('(network-script network-nat)\n(vif-script vif-bridge)', 'x.sxp'),
      "x.sxp:2:13: vif-script 'vif-bridge' does not go with network-script 'network-nat' (Xen pairs network-nat with vif-nat)",
    ],
    [
      'bad script argument',
      () => readXendConfig("(network-script 'network-bridge eth1')", 'x.sxp'),
      "x.sxp:1:17: script argument 'eth1' is not KEY=VALUE",
    ],
    [
      'missing comma in vif list',
      () => parseDomainConfig("vif = [ 'a' 'b' ]", 'x.cfg'),
      "x.cfg:1:13: expected ',' or the closing ']', found 'b'",
    ],
    ['missing =', () => parseDomainConfig("vif [ 'a' ]", 'x.cfg'), "x.cfg:1:5: expected '=', found '['"],
    [
      'no value',
      () => parseDomainConfig('vif = ', 'x.cfg'),
      'x.cfg:1:7: expected a value (a quoted string, a number or a [list]), found end of input',
    ],
    [
      'bad vif setting',
      () => readXenNetwork(null, [{ text: "vif = [ 'bridge=xenbr0, xenbr1' ]", file: 'x.cfg' }]),
      "x.cfg:1:9: vif setting 'xenbr1' is not KEY=VALUE",
    ],
    [
      'bad vif address',
      () => readXenNetwork(null, [{ text: "vif = [ 'ip=10.0.0.300' ]", file: 'x.cfg' }]),
      "x.cfg:1:9: bad address '10.0.0.300' in vif ip= (expected ADDRESS or ADDRESS/PREFIX)",
    ],
    [
      'vif not a list',
      () => readXenNetwork(null, [{ text: "vif = 'bridge=xenbr0'", file: 'x.cfg' }]),
      "x.cfg:1:7: vif must be a list: vif = [ 'bridge=xenbr0', … ]",
    ],
  ];
  it.each(errors)('%s', (_name, run, message) => {
    expect(errorOf(run)).toBe(message);
  });
});
