// The nft readers on real captures (../shared/corpus/nft-real: libvirt 11.3's nftables backend,
// iptables-nft tables beside it) and on bad input. The text of `nft list ruleset` and the JSON of
// `nft -j list ruleset` taken at the same moment must give the same model, but for what nft's
// JSON does not say (iptables-nft's xt statements, which its text translates).

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNftJson } from '../../grammar/nft-json.js';
import { parseNftText } from '../../grammar/nft.js';
import { InputError } from '../../src/model/errors.js';
import type { NftRule, NftRuleset, NftStatement } from '../../src/model/nft.js';
import { allNftRules, firstUnknown } from '../../src/model/nft.js';
import { describeCorpus, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

const NFT_REAL = join(SHARED_CORPUS, 'nft-real');

/** The model without where it was read (and, unless asked, without kernel handles). */
export function comparable(r: NftRuleset, keepHandles = false): unknown {
  return JSON.parse(
    JSON.stringify(r.tables, (k, v: unknown) => (k === 'pos' || (!keepHandles && k === 'handle') ? undefined : v)),
  );
}

function captures(suffix: string): string[] {
  return readdirSync(NFT_REAL)
    .filter((d) => !d.includes('.'))
    .flatMap((d) =>
      readdirSync(join(NFT_REAL, d))
        .filter((f) => f.endsWith(suffix))
        .map((f) => join(d, f)),
    )
    .sort();
}

const textOf = (f: string): NftRuleset => parseNftText(read(join(NFT_REAL, f)), { file: f });
const jsonOf = (f: string): NftRuleset => parseNftJson(read(join(NFT_REAL, f)), { file: f });

describeCorpus('nft readers on the nft-real captures', () => {
  const jsonFiles = captures('.nft.json');

  it('finds the captures', () => {
    expect(jsonFiles.length).toBeGreaterThanOrEqual(16);
  });

  for (const f of jsonFiles) {
    const base = f.slice(0, -'.nft.json'.length);
    it(`${base}: nft text and nft -j give the same model (xt statements aside)`, () => {
      const text = textOf(`${base}.nft.txt`);
      const json = jsonOf(f);
      expect(json.nftVersion).toBe('1.0.6');
      const t = text.tables.map((x) => `${x.family} ${x.name}`);
      expect(json.tables.map((x) => `${x.family} ${x.name}`)).toEqual(t);
      const xtTables = json.tables.filter((x) =>
        x.chains.some((c) => c.rules.some((r) => r.statements.some((s) => s.kind === 'xt'))),
      );
      // Only iptables-nft's own tables hold xt statements.
      for (const x of xtTables) expect(['filter', 'nat', 'mangle', 'raw', 'security']).toContain(x.name);
      const plain = (r: NftRuleset): NftRuleset => ({
        ...r,
        tables: r.tables.filter((x) => !xtTables.some((y) => y.family === x.family && y.name === x.name)),
      });
      expect(comparable(plain(text))).toEqual(comparable(plain(json)));
      // In the xt tables, each rule is the same but where JSON has an xt statement.
      for (const x of xtTables) {
        const tt = text.tables.find((y) => y.family === x.family && y.name === x.name)!;
        expect(tt.chains.map((c) => c.rules.length)).toEqual(x.chains.map((c) => c.rules.length));
        x.chains.forEach((c, ci) =>
          c.rules.forEach((r, ri) => {
            const other = tt.chains[ci]!.rules[ri]!;
            const known = (s: NftStatement[]) =>
              JSON.stringify(
                comparable({
                  ...text,
                  tables: [{ ...tt, chains: [{ ...tt.chains[0]!, rules: [{ ...other, statements: s }] }] }],
                }),
              );
            if (!r.statements.some((s) => s.kind === 'xt')) expect(known(other.statements)).toBe(known(r.statements));
            else expect(firstUnknown(r)?.kind).toBe('xt');
          }),
        );
      }
    });
  }

  for (const f of captures('.nft-handles.txt')) {
    const base = f.slice(0, -'.nft-handles.txt'.length);
    it(`${base}: nft -a text carries the kernel's handles, equal to nft -j's`, () => {
      const text = textOf(f);
      const json = jsonOf(`${base}.nft.json`);
      const handles = (r: NftRuleset) =>
        r.tables.map((t) => [t.handle, t.chains.map((c) => [c.handle, c.rules.map((x) => x.handle)])]);
      expect(handles(text)).toEqual(handles(json));
      if (text.tables.length > 0) expect(text.tables[0]!.handle).not.toBeNull();
    });
  }

  it('positions: text rules carry line:col, JSON elements their path', () => {
    const text = textOf('a-default-nat/after.nft.txt');
    const rule = text.tables[0]!.chains[1]!.rules[0]!;
    expect(rule.pos).toEqual({ line: 10, col: 3 });
    expect(rule.statements.map((s) => s.pos)).toEqual([
      { line: 10, col: 3 },
      { line: 10, col: 29 },
      { line: 10, col: 42 },
      { line: 10, col: 68 },
    ]);
    const json = jsonOf('a-default-nat/after.nft.json');
    const jr: NftRule = [...allNftRules(json)].find((r) => r.chain === 'guest_output')!;
    expect(jr.pos).toEqual({ path: expect.stringMatching(/^nftables\[\d+\]\.rule$/) });
    expect(jr.statements[1]!.pos).toEqual({ path: `${(jr.pos as { path: string }).path}.expr[1]` });
  });

  it("libvirt's rules read as the kernel holds them", () => {
    const text = textOf('a-default-nat/after.nft.txt');
    const nat = text.tables[0]!.chains.find((c) => c.name === 'guest_nat')!;
    expect(nat.base).toEqual({ type: 'nat', hook: 'postrouting', priority: 100, policy: 'accept', devices: [] });
    expect(nat.rules[2]!.statements).toMatchObject([
      { kind: 'match', op: '==', left: { kind: 'meta', key: 'l4proto' }, right: { kind: 'value', value: 'tcp' } },
      {
        kind: 'match',
        op: '==',
        left: { kind: 'payload', protocol: 'ip', field: 'saddr' },
        right: { kind: 'prefix', addr: { kind: 'value', value: '192.168.122.0' }, len: 24 },
      },
      { kind: 'match', op: '!=', left: { kind: 'payload', protocol: 'ip', field: 'daddr' } },
      { kind: 'counter', packets: 0, bytes: 0 },
      {
        kind: 'nat',
        nat: 'masquerade',
        addr: null,
        port: { kind: 'range', low: { kind: 'value', value: 1024 }, high: { kind: 'value', value: 65535 } },
      },
    ]);
    const input = text.tables[0]!.chains.find((c) => c.name === 'guest_input')!;
    expect(input.rules[0]!.statements[2]).toMatchObject({
      op: 'in',
      left: { kind: 'ct', key: 'state' },
      right: { kind: 'list', items: [{ value: 'established' }, { value: 'related' }] },
    });
    expect(input.rules[1]!.statements[2]).toMatchObject({ kind: 'reject', type: 'icmp', code: 'port-unreachable' });
  });
});

describe('nft readers on bad input', () => {
  const fails = (f: () => unknown, where: RegExp): void => {
    let error: unknown;
    try {
      f();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(where);
  };

  it('truncated JSON: a positioned error that says so', () => {
    const json =
      '{"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}}, {"table": {"family": "ip", "na';
    fails(() => parseNftJson(json, { file: 'cut.json' }), /^cut\.json:1:\d+: unexpected end of JSON input \(truncated/);
  });

  it('JSON of the wrong shape: the element path and its line:col', () => {
    const json =
      '{"nftables": [\n  {"table": {"family": "ip", "name": "t"}},\n  {"chain": {"family": "ip", "table": "t", "name": "c", "type": "filter", "hook": "forwrd", "prio": 0}}\n]}';
    fails(
      () => parseNftJson(json, { file: 'x.json' }),
      /^x\.json:3:\d+: nftables\[1\]\.chain\.hook: unknown hook 'forwrd' \(did you mean 'forward'\?\)/,
    );
    fails(() => parseNftJson('{"tables": []}', { file: 'y.json' }), /missing "nftables" \(not nft -j output\)/);
    fails(
      () => parseNftJson('{"nftables": [{"metainfo": {"json_schema_version": 2}}]}', { file: 'z.json' }),
      /json_schema_version 2 is newer/,
    );
  });

  it('an unknown JSON expression or statement is carried verbatim', () => {
    const json = JSON.stringify({
      nftables: [
        { table: { family: 'inet', name: 't' } },
        { chain: { family: 'inet', table: 't', name: 'c' } },
        {
          rule: {
            family: 'inet',
            table: 't',
            chain: 'c',
            expr: [
              { match: { op: '==', left: { osf: { key: 'name' } }, right: 'Linux' } },
              { synproxy: { mss: 1460 } },
              { accept: null },
            ],
          },
        },
      ],
    });
    const r = parseNftJson(json, { file: 'u.json' });
    const rule = [...allNftRules(r)][0]!;
    expect(rule.statements[0]).toMatchObject({
      kind: 'match',
      left: { kind: 'unknown', what: 'osf', json: { osf: { key: 'name' } } },
    });
    expect(rule.statements[1]).toMatchObject({
      kind: 'unknown',
      what: 'synproxy',
      json: { synproxy: { mss: 1460 } },
      pos: { path: 'nftables[2].rule.expr[1]' },
    });
    expect(firstUnknown(rule)).toMatchObject({ what: 'osf' });
  });

  it('an unknown text statement carries the rest of the rule verbatim', () => {
    const r = parseNftText(
      'table inet t {\n\tchain c {\n\t\tiifname "lo" tcp option maxseg size 1400 accept\n\t}\n}\n',
      { file: 'u.nft' },
    );
    const rule = [...allNftRules(r)][0]!;
    expect(rule.statements).toMatchObject([
      { kind: 'match' },
      { kind: 'unknown', text: 'tcp option maxseg size 1400 accept', what: 'tcp', pos: { line: 3, col: 16 } },
    ]);
  });

  it('unknown hooks, families, chain types, truncated text: positioned errors', () => {
    fails(
      () =>
        parseNftText('table ip t {\n\tchain c {\n\t\ttype filter hook forwad priority 0; policy accept;\n\t}\n}\n', {
          file: 'h.nft',
        }),
      /^h\.nft:3:20: unknown hook 'forwad' \(did you mean 'forward'\?\)/,
    );
    fails(() => parseNftText('table ipv4 t {\n}\n', { file: 'f.nft' }), /^f\.nft:1:7: unknown table family 'ipv4'/);
    fails(
      () =>
        parseNftText('table ip t {\n\tchain c {\n\t\ttype natt hook input priority 0;\n\t}\n}\n', { file: 'c.nft' }),
      /^c\.nft:3:8: unknown chain type 'natt' \(did you mean 'nat'\?\)/,
    );
    fails(
      () => parseNftText('table ip t {\n\tchain c {\n\t\taccept\n', { file: 't.nft' }),
      /^t\.nft:3:10: unexpected end of input: 2 '\{' not closed \(truncated/,
    );
    fails(
      () => parseNftText('*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n', { file: 'i.save' }),
      /^i\.save:1:1: this is iptables-save output/,
    );
    fails(
      () => parseNftText('add rule ip t c accept\n', { file: 'a.nft' }),
      /^a\.nft:1:1: expected 'table FAMILY NAME \{'.*'add' commands are nft -f scripts/,
    );
    fails(
      () => parseNftText('table ip t {\n\tchain c {\n\t\tip saddr "unterminated\n\t}\n}\n', { file: 'q.nft' }),
      /^q\.nft:3:12: unterminated quoted string/,
    );
  });

  it('deep nesting is refused, not a stack overflow', () => {
    const deep = `table ip t {\n\tchain c {\n\t\tip saddr ${'{ '.repeat(5000)}1.1.1.1${' }'.repeat(5000)} accept\n\t}\n}\n`;
    fails(() => parseNftText(deep, { file: 'd.nft' }), /braces nested deeper than 16/);
    const deepJson = `{"nftables": [{"table": {"family": "ip", "name": "t"}}, {"chain": {"family": "ip", "table": "t", "name": "c"}}, {"rule": {"family": "ip", "table": "t", "chain": "c", "expr": [{"match": {"op": "==", "left": ${'{"&": ['.repeat(100)}1${', 1]}'.repeat(100)}, "right": 1}}]}}]}`;
    fails(() => parseNftJson(deepJson, { file: 'd.json' }), /expressions nested deeper than 32/);
  });

  it('a huge line is read in linear time', () => {
    const elements = Array.from(
      { length: 50_000 },
      (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    ).join(', ');
    const r = parseNftText(`table ip t {\n\tchain c {\n\t\tip saddr { ${elements} } accept\n\t}\n}\n`, {
      file: 'big.nft',
    });
    const m = [...allNftRules(r)][0]!.statements[0]!;
    expect(m.kind === 'match' && m.right.kind === 'set' ? m.right.items.length : 0).toBe(50_000);
  });
});

describe('positions in nft text', () => {
  const at = (text: string): string => {
    try {
      parseNftText(text, { file: 't.nft' });
    } catch (e) {
      return (e as Error).message.split(': ')[0]!;
    }
    return 'read';
  };

  it('puts the end of input just past the last character read, as the lexer did with full positions', () => {
    expect(at('table ip t {\n\tchain c {\n\t\taccept\n')).toBe('t.nft:3:10');
    expect(at('table ip t {\n\tchain c {\n\t\taccept')).toBe('t.nft:3:9');
    expect(at('table ip t {\n\tchain c {\n\t\tcomment "a b"')).toBe('t.nft:3:16');
    expect(at('table ip t {\r\n\tchain c {\r\n\t\taccept\r\n')).toBe('t.nft:3:11');
  });

  it('names the lines of a CRLF file as those of the same file with LF line ends (a CR LF is one line break)', () => {
    const lf = 'table ip t {\n\tchain c {\n\t\ttype natt hook input priority 0;\n\t}\n}\n';
    expect(at(lf)).toBe('t.nft:3:8');
    expect(at(lf.replaceAll('\n', '\r\n'))).toBe('t.nft:3:8');
  });
});
