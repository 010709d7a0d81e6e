// Every check is one file named by its id, with a doc (what, why, how to fix) and a test table.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../src/audit/checks/index.js';
import { fill } from '../../src/audit/types.js';
import { REPO } from '../helpers/env.js';

describe('check registry', () => {
  it('one file per check in src/audit/checks, named by its id; ids unique', () => {
    const files = readdirSync(join(REPO, 'src/audit/checks'))
      .filter((f) => f !== 'index.ts')
      .map((f) => f.replace(/\.ts$/, ''));
    expect(files.sort()).toEqual(CHECKS.map((c) => c.id).sort());
    expect(new Set(CHECKS.map((c) => c.id)).size).toBe(CHECKS.length);
  });

  it.each(CHECKS.map((c) => [c.id, c] as const))(
    '%s has a doc with what, why and how to fix, and a test table',
    (id, check) => {
      expect(check.docs).toBe(`docs/checks/${id}.md`);
      const doc = readFileSync(join(REPO, check.docs), 'utf8');
      expect(doc.startsWith(`# ${id}\n`)).toBe(true);
      for (const heading of ['## What', '## Why it matters', '## How to fix']) expect(doc).toContain(heading);
      expect(doc).toContain(`**${check.severity}**`);
      expect(existsSync(join(REPO, 'test/audit/checks', `${id}.test.ts`))).toBe(true);
    },
  );

  it.each(CHECKS.map((c) => [c.id, c] as const))(
    '%s words its findings as templates, each placeholder a {{name}} its source fills',
    (id, check) => {
      const names = Object.keys(check.messages);
      expect(names.length).toBeGreaterThan(1); // at least a message and a fix
      const source = readFileSync(join(REPO, 'src/audit/checks', `${id}.ts`), 'utf8');
      for (const [name, template] of Object.entries(check.messages)) {
        // Every brace pair is a whole placeholder: a stray `{{` or `}}` would print as it is.
        expect(template.replace(/\{\{\w+\}\}/g, '')).not.toMatch(/\{\{|\}\}/);
        // Every template is reported by its name somewhere in the check (none left unused).
        expect(
          source.includes(`'${name}'`) || source.includes(`messages.${name}`),
          `${id}: template ${name} is never used`,
        ).toBe(true);
      }
    },
  );
});

describe('templates', () => {
  it('fill puts the data in and refuses a placeholder without data', () => {
    expect(fill('restart {{name}}: `virsh net-start {{name}}`', { name: 'default' })).toBe(
      'restart default: `virsh net-start default`',
    );
    expect(() => fill('{{network}} and {{bridge}}', { network: 'natted' })).toThrow(/\{\{bridge\}\} has no data/);
  });
});
