// The check harness (graphql-js's expectValidationErrors, ESLint's RuleTester): a check's tests
// are a table of valid cases (no finding of the check) and invalid ones (the findings it must
// report: network, severity, line, words of the message), each a set of real files.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSaveBytes } from '../../grammar/iptables-save.js';
import { parseNftJson } from '../../grammar/nft-json.js';
import { parseNftText } from '../../grammar/nft.js';
import type { NftRuleset } from '../../src/model/nft.js';
import { checkById } from '../../src/audit/checks/index.js';
import { runAudit } from '../../src/audit/run.js';
import type { Finding, Severity } from '../../src/audit/types.js';
import { readBytesFromDisk } from '../../src/input/disk.js';
import { readNetworkFiles } from '../../src/input/networks.js';
import type { Flavor } from '../../src/engine/program.js';
import { REPO_CORPUS, SHARED_CORPUS, corpusSkipReason } from '../helpers/env.js';

export const AUDIT = join(REPO_CORPUS, 'audit');
export const SEED = join(REPO_CORPUS, 'seed-lab');
export const REAL = join(SHARED_CORPUS, 'libvirt-real');

export interface Case {
  readonly name: string;
  readonly dumps: readonly string[];
  /** The host's nft ruleset (`nft list ruleset` text or `nft -j` JSON). */
  readonly nft?: string;
  readonly net?: readonly string[];
  readonly inactive?: readonly string[];
  readonly flavor?: Flavor;
  readonly libvirtVersion?: string;
}

export interface Expected {
  readonly network: string | null;
  readonly severity: Severity;
  /** Line of the finding's location (in the dump or the XML). */
  readonly line?: number;
  /** Words the message must contain. */
  readonly message?: readonly string[];
  /** The fix, exactly (corpus folders as <repo> and <shared>): advice changed to something wrong must fail the test. */
  readonly fix: string;
}

/** Runs the audit on a case with only the named checks (all when none is named). */
export async function audit(c: Case, ids?: readonly string[]): Promise<Finding[]> {
  const checks = ids?.map((id) => {
    const check = checkById(id);
    if (!check) throw new Error(`no check ${id}`);
    return check;
  });
  const report = await runAudit(
    {
      dumps: c.dumps.map((f) => parseSaveBytes(readBytesFromDisk(f), { file: f })),
      nft: c.nft ? readNft(c.nft) : null,
      running: readNetworkFiles([...(c.net ?? [])], readBytesFromDisk),
      inactive: readNetworkFiles([...(c.inactive ?? [])], readBytesFromDisk),
      ...(c.flavor ? { flavor: c.flavor } : {}),
      ...(c.libvirtVersion ? { libvirtVersion: c.libvirtVersion } : {}),
    },
    checks,
  );
  return report.findings;
}

const usesShared = (c: Case): boolean =>
  [...c.dumps, ...(c.nft ? [c.nft] : []), ...(c.net ?? []), ...(c.inactive ?? [])].some((f) =>
    f.startsWith(SHARED_CORPUS),
  );

function readNft(file: string): NftRuleset {
  const text = new TextDecoder().decode(readBytesFromDisk(file));
  return text.trimStart().startsWith('{') ? parseNftJson(text, { file }) : parseNftText(text, { file });
}

/** A fix as a test pins it: the corpus folders named as <repo> and <shared>, whatever machine runs it. */
const pinned = (fix: string): string => fix.split(REPO_CORPUS).join('<repo>').split(SHARED_CORPUS).join('<shared>');

/** A check's table: valid cases yield none of its findings, invalid ones exactly the expected. */
export function checkCases(
  id: string,
  table: { valid: readonly Case[]; invalid: ReadonlyArray<Case & { findings: readonly Expected[] }> },
): void {
  describe(id, () => {
    for (const c of table.valid) {
      it.skipIf(usesShared(c) && corpusSkipReason() !== null && process.env.VIRTABLES_REQUIRE_ALL !== '1')(
        `valid: ${c.name}`,
        async () => {
          expect((await audit(c, [id])).map((f) => `${f.network}: ${f.message}`)).toEqual([]);
        },
      );
    }
    for (const c of table.invalid) {
      it.skipIf(usesShared(c) && corpusSkipReason() !== null && process.env.VIRTABLES_REQUIRE_ALL !== '1')(
        `invalid: ${c.name}`,
        async () => {
          const found = await audit(c, [id]);
          // VT_PRINT_FIXES=1 prints each case's fixes, for an author to review and pin.
          if (process.env.VT_PRINT_FIXES)
            console.log(`FIXES ${JSON.stringify({ id, name: c.name, fixes: found.map((f) => pinned(f.fix)) })}`);
          expect(found.map((f) => ({ network: f.network, severity: f.severity }))).toEqual(
            c.findings.map((e) => ({ network: e.network, severity: e.severity })),
          );
          c.findings.forEach((e, i) => {
            const f = found[i]!;
            expect(f.id).toBe(id);
            if (e.line !== undefined) expect(f.location?.line).toBe(e.line);
            for (const word of e.message ?? []) expect(f.message).toContain(word);
            expect(pinned(f.fix)).toBe(e.fix);
          });
        },
      );
    }
  });
}
