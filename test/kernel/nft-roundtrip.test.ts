// Parsing nft loses nothing: for every nft ruleset here, virtables' canonical print equals what
// real nft 1.0.6 lists after `nft -f` of the same input in a fresh network namespace: the nft-real
// captures (libvirt 11.3's tables, iptables-nft's beside them) as text and as JSON, and the
// rulesets of corpus/nft (written for virtables, checked against the kernel here). The JSON the
// kernel lists reads to the same model as its text, but for what nft 1.0.6's JSON leaves out.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseNftJson } from '../../grammar/nft-json.js';
import { parseNftText } from '../../grammar/nft.js';
import type { NftExpr, NftRuleset } from '../../src/model/nft.js';
import { allNftRules } from '../../src/model/nft.js';
import { canonicalNft } from '../../src/model/nft-canonical.js';
import { formatNftJson } from '../../src/write/nft-json.js';
import { formatNftText, NftPrintError } from '../../src/write/nft-text.js';
import { describeKernel, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';
import { nftRoundTrip } from '../helpers/kernel.js';

const OWN = join(REPO_CORPUS, 'nft');
const NFT_REAL = join(SHARED_CORPUS, 'nft-real');

/** Interfaces `iif`/`oif` name (the kernel resolves them when loading) and netdev devices. */
function interfacesIn(r: NftRuleset): string[] {
  const names = new Set<string>();
  const visit = (e: NftExpr, byIndex: boolean): void => {
    if (e.kind === 'value' && byIndex && typeof e.value === 'string') names.add(e.value);
    if (e.kind === 'set' || e.kind === 'list') for (const i of e.items) visit(i, byIndex);
  };
  for (const rule of allNftRules(r)) {
    for (const s of rule.statements)
      if (s.kind === 'match' && s.left.kind === 'meta') visit(s.right, s.left.key === 'iif' || s.left.key === 'oif');
  }
  for (const t of r.tables) for (const c of t.chains) for (const d of c.base?.devices ?? []) names.add(d);
  return [...names];
}

/** What nft 1.0.6's JSON does not carry: netdev devices, the `dynamic` set flag, `typeof` declarations. */
function withoutJsonLosses(r: NftRuleset): unknown {
  return JSON.parse(
    JSON.stringify(r.tables, (k, v: unknown) => {
      if (k === 'pos' || k === 'handle' || k === 'typeof' || k === 'devices') return undefined;
      if (k === 'flags' && Array.isArray(v)) return v.filter((f) => f !== 'dynamic');
      return v;
    }),
  );
}

describeKernel(
  'nft: canonical print == kernel nft -f + nft list ruleset',
  () => {
    const own = readdirSync(OWN)
      .filter((f) => f.endsWith('.nft'))
      .sort();
    const captures = readdirSync(NFT_REAL)
      .filter((d) => !d.includes('.'))
      .flatMap((d) =>
        readdirSync(join(NFT_REAL, d))
          .filter((f) => f.endsWith('.nft.txt') || f.endsWith('.nft.json'))
          .map((f) => join(d, f)),
      )
      .sort();

    it(`finds the rulesets (${own.length} in corpus/nft, ${captures.length} nft-real captures as text and JSON)`, () => {
      expect(own.length).toBeGreaterThanOrEqual(6);
      expect(captures.length).toBeGreaterThanOrEqual(32);
    });

    it.each(own)('corpus/nft/%s', (file) => {
      const input = read(join(OWN, file));
      const model = parseNftText(input, { file });
      const kernel = nftRoundTrip(input, {
        interfaces: [...interfacesIn(model), 'eth0', 'eth1', 'virbr0', 'virbr1', 'docker0'],
      });
      expect(kernel.stderr, 'the kernel loads it').toBe('');
      expect(kernel.ok).toBe(true);
      const base = file.slice(0, -'.nft'.length);
      // The stored listings are what this kernel prints today (they are read by tests without root).
      expect(kernel.text, `${base}.listed.txt is current`).toBe(read(join(OWN, `${base}.listed.txt`)));
      expect(formatNftText(canonicalNft(model), { strict: true })).toBe(kernel.text);
      // nft's JSON listing reads to the model of its text listing.
      const fromText = parseNftText(kernel.text, { file: 'kernel text' });
      const fromJson = parseNftJson(kernel.json, { file: 'kernel json' });
      expect(withoutJsonLosses(fromJson)).toEqual(withoutJsonLosses(fromText));
      expect(formatNftText(canonicalNft(fromText), { strict: true })).toBe(kernel.text);
      // parse --format json: the kernel's own JSON comes back as it was, and ours loads as the
      // kernel's own does (nft 1.0.6 cannot load back some of its JSON: verdict maps that jump to
      // chains listed after them, concatenated map values; then ours is refused for the same reason).
      expect(JSON.parse(formatNftJson(fromJson))).toEqual(JSON.parse(kernel.json));
      const interfaces = [...interfacesIn(model), 'eth0', 'eth1', 'virbr0', 'virbr1', 'docker0'];
      const theirs = nftRoundTrip(kernel.json, { json: true, interfaces });
      const ours = nftRoundTrip(formatNftJson(canonicalNft(model)), { json: true, interfaces });
      if (theirs.ok) {
        expect(ours.stderr).toBe('');
        expect(ours.text).toBe(theirs.text);
      } else if (/Missing `device'/.test(theirs.stderr)) {
        // nft 1.0.6 lists a netdev chain without its device, then cannot load it; ours names it.
        expect(ours.stderr).toBe('');
        expect(ours.text).toBe(kernel.text);
      } else {
        expect(ours.stderr).toBe(theirs.stderr);
      }
    });

    it.each(captures)('nft-real/%s', (file) => {
      const input = read(join(NFT_REAL, file));
      const json = file.endsWith('.json');
      const model = json ? parseNftJson(input, { file }) : parseNftText(input, { file });
      const kernel = nftRoundTrip(input, { json, interfaces: interfacesIn(model) });
      let ours: string | NftPrintError;
      try {
        ours = formatNftText(canonicalNft(model), { strict: true });
      } catch (e) {
        if (!(e instanceof NftPrintError)) throw e;
        ours = e;
      }
      if (!kernel.ok) {
        // nft -j -f refuses iptables-nft's xt statements; virtables refuses to print them, naming one.
        expect(kernel.stderr).toMatch(/unsupported xtables compat expression/);
        expect(ours).toBeInstanceOf(NftPrintError);
        expect((ours as NftPrintError).message).toMatch(/^xt (match|target) \w+: an iptables-nft extension/);
        expect((ours as NftPrintError).pos).toEqual({
          path: expect.stringMatching(/^nftables\[\d+\]\.rule\.expr\[\d+\]$/),
        });
        return;
      }
      expect(kernel.stderr).toBe('');
      expect(ours).toBe(kernel.text);
      if (json) expect(JSON.parse(formatNftJson(model))).toEqual(JSON.parse(input));
    });
  },
  { corpus: true },
);
