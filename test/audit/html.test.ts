// `virtables audit --format html`: one self-contained page (nothing loaded, no script) with the
// findings, the diagram and every rule explained; input that is markup stays text; and the page
// renders in headless Chromium (its DOM, and a screenshot in test-artifacts/ that shows something).

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { CHROMIUM, describeChromium, REPO, REPO_CORPUS } from '../helpers/env.js';
import { decodePng, inkOf } from '../helpers/png.js';

const SEED = join(REPO_CORPUS, 'seed-lab');
const lab = [
  join(SEED, 'lab-host.save'),
  '--net',
  join(SEED, 'default.xml'),
  '--net',
  join(SEED, 'host-only.xml'),
  '--net',
  join(SEED, 'natted.xml'),
];
const HOSTILE = join(REPO_CORPUS, 'report', 'hostile');
const hostile = [join(HOSTILE, 'host.save'), '--net', join(HOSTILE, 'network.xml')];
const HOSTILE_NAME = '<script>alert("net")<img src=x onerror=alert(1)>';

async function html(args: string[]): Promise<{ code: number; page: string; stderr: string }> {
  const r = await runCli(['audit', ...args, '--format', 'html']);
  return { code: r.code, page: r.stdout, stderr: r.stderr };
}

/**
 * The page loads nothing and runs nothing: among its tags (text is escaped, so `<` only opens
 * real ones) no script, stylesheet link, image, frame or object; no src or event-handler
 * attribute; links only within the page; CSS without imports or outside urls.
 */
function expectSelfContained(page: string): void {
  expect(page.startsWith('<!DOCTYPE html>\n')).toBe(true);
  const tags = [...page.matchAll(/<([a-zA-Z][\w:-]*)((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*\/?>/g)];
  // Every tag read (none the pattern misses), and more than a few.
  expect(tags.length).toBe(page.match(/<[a-zA-Z]/g)!.length);
  expect(tags.length).toBeGreaterThan(100);
  for (const [tag, name, attrs] of tags) {
    expect(
      ['script', 'link', 'img', 'iframe', 'object', 'embed', 'image', 'use', 'foreignObject', 'base'].includes(name!),
      tag,
    ).toBe(false);
    for (const [, attr, value] of attrs!.matchAll(/([\w:-]+)(?:="([^"]*)")?/g)) {
      expect(/^(src|srcset|on\w+)$/i.test(attr!), tag).toBe(false);
      if (/href$/i.test(attr!)) expect(value!.startsWith('#'), tag).toBe(true);
      if (/url\(/.test(value ?? '')) expect(value, tag).toMatch(/^url\(#/);
    }
  }
  const css = page.slice(page.indexOf('<style>'), page.indexOf('</style>'));
  expect(css).not.toMatch(/@import|url\(/);
  // The only URLs in tags are the SVG namespace names, which nothing fetches.
  for (const [tag] of tags)
    for (const m of tag.matchAll(/https?:\/\/[^\s"'<>]*/g))
      expect(['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink']).toContain(m[0]);
}

describe('audit --format html of the seed lab host', () => {
  it('one self-contained page: every finding in the findings tables, the diagram, every rule explained', async () => {
    const { code, page } = await html(lab);
    const text = await runCli(['audit', ...lab]);
    expect(code).toBe(text.code);
    expectSelfContained(page);
    const json = JSON.parse((await runCli(['audit', ...lab, '--format', 'json'])).stdout) as {
      findings: Array<{
        id: string;
        severity: string;
        network: string | null;
        location: { file: string; line: number } | null;
        fix: string;
      }>;
    };
    const rows = [
      ...page.matchAll(
        /<tr class="finding (\w+)"><td><span class="badge \w+">\w+<\/span><\/td><td class="check">([^<]*)<\/td><td class="where"><code>([^<]*)<\/code>/g,
      ),
    ].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
    expect(rows).toEqual(json.findings.map((f) => `${f.severity} ${f.id} ${f.location!.file}:${f.location!.line}`));
    // Findings grouped by network: each table sits under its network's heading.
    const natted = page.slice(page.indexOf('<h4>natted</h4>'));
    expect(natted.slice(0, natted.indexOf('</table>'))).toContain('guest-reachable-from-outside');
    expect(page.match(/<svg[\s>]/g)).toHaveLength(1);
    const explain = JSON.parse(
      (
        await runCli([
          'explain',
          join(SEED, 'lab-host.save'),
          '--net',
          join(SEED, 'default.xml'),
          '--net',
          join(SEED, 'host-only.xml'),
          '--net',
          join(SEED, 'natted.xml'),
          '--format',
          'json',
        ])
      ).stdout,
    ) as { rules: Array<{ line: number; text: string }> };
    const ruleRows = [
      ...page.matchAll(
        /<tr><td class="line">(\d+)<\/td><td class="table">\w+<\/td><td><span class="rule">([^<]*)<\/span>/g,
      ),
    ].map(
      (m) =>
        `${m[1]} ${m[2]!
          .replace(/&quot;/g, '"')
          .replace(/&amp;/g, '&')
          .replace(/&#39;/g, "'")}`,
    );
    expect(ruleRows.sort()).toEqual(explain.rules.map((r) => `${r.line} ${r.text}`).sort());
  }, 180_000); // the seed lab audited, explained and drawn: ~20 s alone, past 60 s on a loaded machine

  it('usage: html is one of the formats in --help', async () => {
    expect((await runCli(['audit', '--help'])).stdout).toContain('--format html');
  });
});

describe('audit --format html with input that is markup', () => {
  it('network names and rule comments stay text', async () => {
    const { code, page } = await html(hostile);
    expect(code).toBe(1);
    expectSelfContained(page);
    const esc = (s: string): string =>
      s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    expect(page).toContain(`<h4>${esc(HOSTILE_NAME)}</h4>`);
    expect(page).toContain('&lt;script&gt;alert(&#39;rule&#39;)&lt;/script&gt; &amp; \\&quot;q\\&quot;');
    // In the diagram too (Graphviz escapes what the DOT quoted; the bundled layout escapes itself).
    const svg = page.slice(page.indexOf('<svg'), page.indexOf('</svg>'));
    expect(svg).toMatch(/&lt;script&gt;alert\(&quot;net&quot;\)&lt;img src=x onerror=alert\(1\)&gt;/);
  });
});

// --- in a browser ----------------------------------------------------------------------------------

const ARTIFACTS = join(REPO, 'test-artifacts');
const scratch = mkdtempSync(join(tmpdir(), 'virtables-html-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Headless Chromium on a file, offline and with a profile of its own; its stdout. */
function chromium(page: string, mode: string[]): string {
  const profile = mkdtempSync(join(scratch, 'profile-'));
  const r = spawnSync(
    CHROMIUM!,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--hide-scrollbars',
      `--user-data-dir=${profile}`,
      ...mode,
      `file://${page}`,
    ],
    { encoding: 'utf8', timeout: 90_000 },
  );
  if (r.status !== 0) throw new Error(`chromium exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

function writePage(name: string, page: string): string {
  const file = join(scratch, name);
  writeFileSync(file, page);
  return file;
}

describeChromium('the HTML report in headless Chromium', () => {
  it('the DOM holds the findings table, the diagram and the explained rules', async () => {
    const { page } = await html(lab);
    const dom = chromium(writePage('lab.html', page), ['--dump-dom']);
    expect(dom).toContain('<table class="findings">');
    expect(dom.match(/<tr class="finding warning">/g)).toHaveLength(4);
    const svg = dom.slice(dom.indexOf('<svg'), dom.indexOf('</svg>'));
    for (const node of [
      'outside',
      'host',
      'bridge/virbr0',
      'bridge/virbr1',
      'bridge/virbr2',
      'guest/natted-vm',
      'guest/192.168.124.10',
    ])
      expect(svg).toContain(`<title>${node}</title>`);
    expect(dom).toContain('<table class="rules">');
  });

  it('a screenshot shows the page (test-artifacts/audit-report.png)', async () => {
    const { page } = await html(lab);
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'audit-report.png');
    rmSync(shot, { force: true });
    chromium(writePage('lab-shot.html', page), [`--screenshot=${shot}`, '--window-size=1400,2400']);
    const img = decodePng(readFileSync(shot));
    expect([img.width, img.height]).toEqual([1400, 2400]);
    const { ink, colours } = inkOf(img);
    // Text, tables, badges and the coloured diagram: far from a blank or single-colour page.
    expect(ink).toBeGreaterThan(0.05);
    expect(colours).toBeGreaterThan(200);
  });

  it('markup in network names and comments builds no element', async () => {
    const { page } = await html(hostile);
    const dom = chromium(writePage('hostile.html', page), ['--dump-dom']);
    expect(dom).not.toMatch(/<script|<img/i);
    expect(dom).toContain('&lt;script&gt;alert("net")&lt;img src=x onerror=alert(1)&gt;');
    expect(dom).toContain("&lt;script&gt;alert('rule')&lt;/script&gt;");
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'audit-report-hostile.png');
    chromium(writePage('hostile-shot.html', page), [`--screenshot=${shot}`, '--window-size=1400,1600']);
    expect(inkOf(decodePng(readFileSync(shot))).ink).toBeGreaterThan(0.03);
  });
});
