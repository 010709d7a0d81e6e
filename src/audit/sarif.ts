// SARIF 2.1.0 for code scanning: one run, the checks as rules (metadata from docs/checks/ID.md),
// each finding a result located in the dump or network definition it is about.

import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { PACKAGE_ROOT } from '../package.js';
import type { Check } from './context.js';
import type { Finding, Location, Severity } from './types.js';

const LEVEL: Readonly<Record<Severity, 'error' | 'warning' | 'note'>> = {
  error: 'error',
  warning: 'warning',
  info: 'note',
};

interface CheckDoc {
  readonly markdown: string;
  /** The doc's "What" section, as one paragraph. */
  readonly what: string;
}

export function readCheckDoc(check: Check, root = PACKAGE_ROOT): CheckDoc | null {
  const path = join(root, check.docs);
  if (!existsSync(path)) return null;
  const markdown = readFileSync(path, 'utf8');
  const section = /^## What\s*\n+([\s\S]*?)(?=\n## |$(?![\s\S]))/m.exec(markdown)?.[1];
  const what = section?.replace(/\s+/g, ' ').trim() ?? check.summary;
  return { markdown, what };
}

function uriOf(file: string): string {
  if (file === '-') return 'stdin';
  const slashed = file.replace(/\\/g, '/');
  return isAbsolute(file) ? `file://${encodeURI(slashed)}` : encodeURI(slashed.replace(/^\.\//, ''));
}

function physical(l: Location) {
  return {
    artifactLocation: { uri: uriOf(l.file) },
    region: {
      startLine: Math.max(1, l.line),
      ...(l.col && l.col > 0 ? { startColumn: l.col } : {}),
      ...(l.text ? { snippet: { text: l.text } } : {}),
    },
  };
}

const pascal = (id: string): string =>
  id
    .split('-')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

export function toSarif(
  findings: readonly Finding[],
  checks: readonly Check[],
  version: string,
  fallback: Location | null,
) {
  const root = PACKAGE_ROOT;
  const rules = checks.map((c) => {
    const doc = readCheckDoc(c, root);
    return {
      id: c.id,
      name: pascal(c.id),
      shortDescription: { text: c.summary },
      fullDescription: { text: doc?.what ?? c.summary },
      ...(doc ? { help: { text: doc.markdown, markdown: doc.markdown } } : {}),
      defaultConfiguration: { level: LEVEL[c.severity] },
      properties: { docs: c.docs },
    };
  });
  const index = new Map(checks.map((c, i) => [c.id, i]));
  const results = findings.map((f) => {
    const where = f.location ?? fallback;
    return {
      ruleId: f.id,
      ...(index.has(f.id) ? { ruleIndex: index.get(f.id)! } : {}),
      level: LEVEL[f.severity],
      message: { text: `${f.message}\nFix: ${f.fix}` },
      ...(where
        ? {
            locations: [
              {
                physicalLocation: physical(where),
                ...(f.network ? { logicalLocations: [{ name: f.network, kind: 'namespace' }] } : {}),
              },
            ],
          }
        : {}),
      ...(f.related.length > 0
        ? {
            relatedLocations: f.related.map((r, id) => ({
              id,
              physicalLocation: physical(r),
              message: { text: r.message },
            })),
          }
        : {}),
      properties: { network: f.network, fix: f.fix },
    };
  });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'virtables', version, semanticVersion: version, rules } },
        columnKind: 'unicodeCodePoints',
        results,
      },
    ],
  };
}
