// Bounded memory: an input's size is checked before it is read (a file's from fstat, standard
// input's while it is read in chunks), and a dump too big for the heap stops with a positioned,
// named limit instead of V8 aborting the process with a heap trace.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/env.js';

const BIN = join(REPO, 'bin', 'virtables');
const scratch = mkdtempSync(join(tmpdir(), 'virtables-limits-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function virtables(args: string[], options: { input?: string | Buffer; env?: Record<string, string> } = {}) {
  return spawnSync(process.execPath, [BIN, ...args], {
    input: options.input,
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** A dump of `n` FORWARD rules, each with its own addresses and port. */
function dump(n: number): string {
  const rules = Array.from(
    { length: n },
    (_, i) =>
      `-A FORWARD -s 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32 -d 172.16.${(i >> 8) & 255}.${i & 255}/32 -p tcp -m tcp --dport ${(i % 65535) + 1} -j ACCEPT`,
  );
  return `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${rules.join('\n')}\nCOMMIT\n`;
}

describe('input size limits', () => {
  it('a file over 128 MiB is refused from its size, before it is read', () => {
    const file = join(scratch, 'huge.save');
    writeFileSync(file, '');
    truncateSync(file, 600 * 1024 * 1024); // sparse: nothing to read, only a size
    const r = virtables(['parse', file]);
    expect([r.status, r.stderr]).toEqual([2, `${file}:1:1: ${file} is 600 MiB, more than virtables reads (128 MiB)\n`]);
  });

  it('standard input is read in chunks and refused once past the limit, the limit named', () => {
    const input = dump(40_000); // ~4 MB
    const r = virtables(['parse', '-'], { input, env: { VIRTABLES_MAX_INPUT_BYTES: String(1024 * 1024) } });
    expect([r.status, r.stderr]).toEqual([
      2,
      expect.stringMatching(
        /^-:1:1: standard input is more than 1\.0 MiB, the most virtables reads \(stopped after 1\.\d MiB\)\n$/,
      ),
    ]);
    const ok = virtables(['parse', '-'], { input });
    expect([ok.status, ok.stderr]).toEqual([0, '']);
  });

  it('a dump too big for the heap stops at a named limit, never with a V8 heap trace', () => {
    const file = join(scratch, 'big.save');
    writeFileSync(file, dump(300_000));
    const r = virtables(['explain', '--format', 'json', file], { env: { NODE_OPTIONS: '--max-old-space-size=160' } });
    expect(r.stderr).not.toMatch(/FATAL ERROR|heap out of memory|JavaScript heap|internal error/);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:1: the dump \\(\\d+ rules so far\\) needs more memory than virtables may use: \\d+ MiB in use at this line, of a \\d+ MiB heap; split the input, or give node more \\(NODE_OPTIONS=--max-old-space-size=MiB\\)\\n$`,
      ),
    );
  }, 240_000); // 300,000 rules parsed to the heap's edge: ~35 s alone, over 60 s on a loaded machine
});
