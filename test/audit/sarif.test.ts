// SARIF output validated against the SARIF 2.1.0 JSON schema (rtm.5, as published with the
// standard and shipped by @microsoft/jest-sarif) by a real JSON-schema validator (ajv, draft-04).

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type AjvDraft04 from 'ajv-draft-04';
import type AjvFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../src/audit/checks/index.js';
import { runCli } from '../helpers/cli.js';
import { AUDIT, SEED } from './harness.js';

const require = createRequire(import.meta.url);
// Both are CommonJS packages whose module object is the export itself.
const Ajv = (require('ajv-draft-04') as typeof AjvDraft04).default;
const addFormats = (require('ajv-formats') as typeof AjvFormats).default;
const schema = JSON.parse(
  readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'),
);
// The schema's language pattern is not valid as a unicode RegExp (a lone ']'): compile patterns as plain RegExps.
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validate = ajv.compile(schema);

async function sarif(args: string[]) {
  const r = await runCli(['audit', ...args, '--format', 'sarif']);
  expect(r.stderr).toBe('');
  return { code: r.code, log: JSON.parse(r.stdout) };
}

describe('audit --format sarif', () => {
  it('validates against the SARIF 2.1.0 schema, with results located in the dump and the XML', async () => {
    const { code, log } = await sarif([
      join(AUDIT, 'shadowed-rule/admin-drop-first.save'),
      '--net',
      join(SEED, 'natted.xml'),
    ]);
    expect(validate(log), ajv.errorsText(validate.errors)).toBe(true);
    expect(code).toBe(1);
    const results = log.runs[0].results;
    const shadowed = results.find((r: { ruleId: string }) => r.ruleId === 'shadowed-rule');
    expect(shadowed.level).toBe('error');
    expect(shadowed.locations[0].physicalLocation.region.startLine).toBe(31);
    expect(shadowed.locations[0].physicalLocation.artifactLocation.uri).toMatch(
      /corpus\/audit\/shadowed-rule\/admin-drop-first\.save$/,
    );
    expect(shadowed.relatedLocations[0].physicalLocation.region.startLine).toBe(24);
  });

  it('describes every check as a rule, from its doc', async () => {
    const { log } = await sarif([join(AUDIT, 'natted.save'), '--net', join(SEED, 'natted.xml')]);
    expect(validate(log), ajv.errorsText(validate.errors)).toBe(true);
    const rules = log.runs[0].tool.driver.rules;
    expect(rules.map((r: { id: string }) => r.id)).toEqual(CHECKS.map((c) => c.id));
    for (const rule of rules) {
      expect(rule.help.markdown).toContain(`# ${rule.id}`);
      expect(rule.fullDescription.text.length).toBeGreaterThan(40);
    }
  });

  it('locates network-only findings in the XML, and stays valid with no dump at all', async () => {
    const { code, log } = await sarif([join(SEED, 'hostntw.xml'), join(SEED, 'natted.xml')]);
    expect(validate(log), ajv.errorsText(validate.errors)).toBe(true);
    expect(code).toBe(1);
    const dup = log.runs[0].results.find((r: { ruleId: string }) => r.ruleId === 'duplicate-bridge');
    expect(dup.locations[0].physicalLocation.artifactLocation.uri).toMatch(/seed-lab\/natted\.xml$/);
  });

  it('the validator is real: a broken log fails', () => {
    expect(validate({ version: '2.1.0', runs: [{ tool: { driver: {} }, results: [{ level: 'fatal' }] }] })).toBe(false);
  });
});
