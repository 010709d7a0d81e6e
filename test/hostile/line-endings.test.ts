// A lone CR (old Mac line endings) ends a line for every reader, as LF and CRLF do: the same
// real file with each line ending changed reads the same, and errors name the same line. A
// CR inside a quoted string of a dump stays part of it (iptables-save prints it so).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSheet } from '../../grammar/expect.js';
import { parseListing } from '../../grammar/listing.js';
import { parseTopologyFile } from '../../grammar/topology.js';
import { parseDomainConfig, parseSxp } from '../../grammar/xen-config.js';
import { decodeText } from '../../src/model/text.js';
import { runCli } from '../helpers/cli.js';
import { describeCorpus, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';

const read = (...p: string[]) => readFileSync(join(REPO_CORPUS, ...p), 'utf8');
const endings = (text: string) => ({
  lf: text.replace(/\r\n?/g, '\n'),
  crlf: text.replace(/\r?\n/g, '\r\n'),
  cr: text.replace(/\r?\n/g, '\r'),
});
/** Parsed data as JSON, bigints as text. */
const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x));

describe('a lone CR ends a line in every reader', () => {
  it('dumps: the canonical print is the same, and an error names the same line', async () => {
    const e = endings(read('seed-lab', 'clean-host.save'));
    const prints = await Promise.all([e.lf, e.crlf, e.cr].map((t) => runCli(['parse', '-'], t)));
    expect(prints.map((p) => p.code)).toEqual([0, 0, 0]);
    expect(new Set(prints.map((p) => p.stdout)).size).toBe(1);
    const bad = endings(
      read('seed-lab', 'clean-host.save').replace('-A INPUT -i lo -j ACCEPT', '-A NOSUCH -i lo -j ACCEPT'),
    );
    const errors = await Promise.all([bad.lf, bad.crlf, bad.cr].map((t) => runCli(['parse', '-'], t)));
    expect(new Set(errors.map((r) => r.stderr.split(': ')[0])).size).toBe(1);
    expect(errors[2]!.stderr).toMatch(/^-:\d+:\d+: /);
  });

  it('dumps: a CR inside a quoted comment is kept, as iptables-save printed it', async () => {
    const dump = '*filter\r:INPUT ACCEPT [0:0]\r-A INPUT -m comment --comment "a\rb" -j ACCEPT\rCOMMIT\r';
    const r = await runCli(['parse', '--format', 'json', '-'], dump);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"a\\rb"');
  });

  it('network XML, Xen set-up files: the same networks', async () => {
    for (const [dir, file] of [
      ['network-xml', 'status-default.xml'],
      ['xen/head-vif-nat-ip', 'online.xen'],
    ] as const) {
      const e = endings(read(dir, file));
      const outs = await Promise.all([e.lf, e.crlf, e.cr].map((t) => runCli(['net', '--format', 'json', '-'], t)));
      expect(outs.map((o) => o.stderr)).toEqual(['', '', '']);
      expect(new Set(outs.map((o) => o.stdout)).size).toBe(1);
    }
  });

  it('xend-config.sxp, domU configurations, topology files, listings: the same statements', () => {
    const cases: Array<[string, (t: string) => unknown]> = [
      [read('xen', 'xend-config-nat.sxp'), (t) => parseSxp(t, 'x.sxp')],
      [read('xen', 'domains', 'db.cfg'), (t) => parseDomainConfig(t, 'd.cfg')],
      [read('topology', 'seed-lab.topo'), (t) => parseTopologyFile(t, 's.topo')],
      [read('listings', 'commands.txt'), (t) => parseListing(t, 'l.txt').operations],
    ];
    for (const [text, parse] of cases) {
      const e = endings(text);
      expect(json(parse(e.cr))).toBe(json(parse(e.lf)));
      expect(json(parse(e.crlf))).toBe(json(parse(e.lf)));
    }
  });

  it('expectation sheets: the same statements (a CR-only sheet was one comment)', () => {
    const e = endings(read('expect', 'real', 'isolated.expect'));
    const statements = (t: string) => parseSheet(t, 'i.expect').statements;
    expect(statements(e.lf).length).toBeGreaterThan(3);
    expect(json(statements(e.cr))).toBe(json(statements(e.lf)));
  });

  it('binary data is placed on its line whatever ends the lines before it', () => {
    for (const nl of ['\n', '\r\n', '\r']) {
      expect(() => decodeText('b.txt', new TextEncoder().encode(`a${nl}b${nl}\u0001`))).toThrow(
        /^b\.txt:3:1: binary data/,
      );
    }
  });
});

describeCorpus('a CR-only sheet is checked like the same sheet with LF', () => {
  it('check finds the same assertions and verdicts', async () => {
    const real = join(SHARED_CORPUS, 'libvirt-real', 'b-host-only');
    const e = endings(read('expect', 'real', 'isolated.expect'));
    const run = (t: string) =>
      runCli(['check', '-', '--dump', join(real, 'after.txt'), '--net', join(real, 'network.xml')], t);
    const [lf, cr] = [await run(e.lf), await run(e.cr)];
    expect(lf.stdout).toMatch(/[1-9]\d* assertions/);
    expect([cr.code, cr.stdout]).toEqual([lf.code, lf.stdout]);
  });
});
