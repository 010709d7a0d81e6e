// Sniffing what kind of network definition a file is must be one pass over its leading blank
// and comment lines: the old pattern backtracked over them (30 blank lines before an XML took 76 s).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { REPO_CORPUS } from '../helpers/env.js';
import { inputKind } from '../../src/network/xen.js';

const XML = readFileSync(join(REPO_CORPUS, 'network-xml', 'status-default.xml'), 'utf8');
const SETUP = readFileSync(join(REPO_CORPUS, 'xen', 'head-vif-nat-ip', 'online.xen'), 'utf8');

/** The JSON of `net`, with every `line` moved up by the lines put in front. */
function shifted(json: string, lead: number): unknown {
  return JSON.parse(json, (key, value) => (key === 'line' && typeof value === 'number' ? value - lead : value));
}

describe('input sniffing over leading blank lines', () => {
  it('reads a network XML after 10,000 blank and comment lines as it reads the XML alone', async () => {
    const plain = await runCli(['net', '--format', 'json', '-'], XML);
    expect(plain.code).toBe(0);
    for (const [lead, lines] of [
      ['\n'.repeat(30), 30],
      ['\n \t\n'.repeat(5000), 10_000],
      ['\r\n'.repeat(10_000), 10_000],
    ] as const) {
      const padded = await runCli(['net', '--format', 'json', '-'], lead + XML);
      expect(padded.stderr).toBe('');
      expect(shifted(padded.stdout, lines)).toEqual(JSON.parse(plain.stdout));
    }
  });

  it('still tells a Xen set-up file by its first line after blank and comment lines', async () => {
    const plain = await runCli(['net', '--format', 'json', '-'], SETUP);
    expect(plain.code).toBe(0);
    const padded = await runCli(['net', '--format', 'json', '-'], `${'\n# a comment\n  \n'.repeat(10_000)}${SETUP}`);
    expect(padded.stderr).toBe('');
    expect(shifted(padded.stdout, 30_000)).toEqual(JSON.parse(plain.stdout));
  });

  it('tells XML, a xend configuration and a domU configuration apart after blank lines', () => {
    expect(inputKind(`${'\n'.repeat(10_000)}<network/>`)).toBe('xml');
    expect(inputKind(`${'  \n# c\n'.repeat(10_000)}(network-script network-nat)`)).toBe('xend');
    expect(inputKind(`${'\r'.repeat(10_000)}vif = [ 'bridge=xenbr0' ]`)).toBe('domain');
    expect(inputKind('\ufeff\n\n')).toBe('xml');
  });
});
