// `virtables live` on a real host: Debian's libvirtd 9.0 (network driver only) started in a
// throw-away network+mount namespace (test/kernel/live-libvirtd.sh, after
// ../shared/tools/libvirt-oracle), one network running and two only defined — one of them
// named like a shell command. virtables runs inside that namespace as a user would (bin/virtables,
// the compiled CLI), three times: as root with --connect and --save-dir, as root with
// LIBVIRT_DEFAULT_URI, and without CAP_NET_ADMIN (what iptables-save sees when not root).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeLibvirt, REPO, REPO_CORPUS } from '../helpers/env.js';

const URI = 'network:///system?mode=legacy';
const CRAFTED = 'x; touch virtables-pwned $(touch virtables-pwned)';
const fixture = (f: string) => join(REPO_CORPUS, 'live', f);

/** bin/virtables runs dist/: build it when a source is newer than the build (CI's npm ci has just built it). */
function ensureBuilt(): void {
  const built = join(REPO, 'dist', 'src', 'cli', 'main.js');
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : e.name.endsWith('.ts') ? statSync(join(dir, e.name)).mtimeMs : 0,
      ),
    );
  if (
    existsSync(built) &&
    statSync(built).mtimeMs >= Math.max(newest(join(REPO, 'src')), newest(join(REPO, 'grammar')))
  )
    return;
  const tsc = spawnSync(join(REPO, 'node_modules', '.bin', 'tsc'), ['-p', join(REPO, 'tsconfig.json')], {
    cwd: REPO,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (!existsSync(built)) throw new Error(`could not build dist/ for bin/virtables: ${tsc.stdout}${tsc.stderr}`);
}

describeLibvirt('virtables live against a real libvirtd 9.0 in a network namespace', () => {
  let out = '';
  let harness = '';
  const read = (f: string) => readFileSync(join(out, f), 'utf8');

  beforeAll(() => {
    ensureBuilt();
    out = mkdtempSync(join(tmpdir(), 'virtables-live-'));
    const bin = join(REPO, 'bin', 'virtables');
    // Each run's output, error stream and exit status land in $OUT/<name>.{out,err,rc}.
    const runs = [
      `cd "$OUT" && ${bin} live --connect '${URI}' --save-dir "$OUT/saved" --format json >"$OUT/json.out" 2>"$OUT/json.err"; echo $? >"$OUT/json.rc"`,
      `cd "$OUT" && LIBVIRT_DEFAULT_URI='${URI}' ${bin} live >"$OUT/text.out" 2>"$OUT/text.err"; echo $? >"$OUT/text.rc"`,
      `cd "$OUT" && setpriv --inh-caps=-net_admin --bounding-set=-net_admin ${bin} live --connect '${URI}' --format json >"$OUT/nocap.out" 2>"$OUT/nocap.err"; echo $? >"$OUT/nocap.rc"`,
    ].join('\n');
    const r = spawnSync(
      'timeout',
      [
        '120',
        'unshare',
        '-n',
        '-m',
        '--propagation',
        'private',
        '--fork',
        '--kill-child=TERM',
        join(REPO, 'test', 'kernel', 'live-libvirtd.sh'),
        'bash',
        '-c',
        runs,
      ],
      {
        env: {
          ...process.env,
          OUT: out,
          START: fixture('lab-nat.xml'),
          DEFINE: `${fixture('lab-isolated.xml')} ${fixture('crafted-name.xml')}`,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      },
    );
    harness = `status ${r.status}\n${r.stdout}${r.stderr}${existsSync(join(out, 'harness.log')) ? read('harness.log') : ''}`;
  }, 150_000);

  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('the namespace ran libvirtd and virtables in it', () => {
    expect([existsSync(join(out, 'rc')) && read('rc').trim(), harness]).toEqual([
      '0',
      expect.stringMatching(/^status 0\n/),
    ]);
  });

  it('collects every network with its state, the crafted name intact and never run', () => {
    const json = JSON.parse(read('json.out')) as {
      collection: {
        networks: Array<{ name: string; active: boolean; file: string }>;
        problems: unknown[];
        nft: boolean;
        connect: string;
      };
    };
    expect([read('json.rc').trim(), read('json.err')]).toEqual(['0', '']);
    expect(json.collection.networks.map((n) => [n.name, n.active])).toEqual([
      ['lab-isolated', false],
      ['lab-nat', true],
      [CRAFTED, false],
    ]);
    expect([json.collection.problems, json.collection.nft, json.collection.connect]).toEqual([[], true, URI]);
    expect(readdirSync(out).filter((f) => f.includes('pwned'))).toEqual([]);
    expect(readFileSync(join(out, 'saved', 'networks', `${CRAFTED}.xml`), 'utf8')).toContain(`<name>${CRAFTED}</name>`);
    // libvirt's live definition: the running network as libvirtd completed it.
    expect(readFileSync(join(out, 'saved', 'networks', 'lab-nat.xml'), 'utf8')).toMatch(
      /<forward mode='nat'>\s*<nat>\s*<port start='1024' end='65535'\/>/,
    );
    expect(read('saved/networks/active.txt')).toBe('lab-nat\n');
  });

  it("the collected firewall is libvirt's, and the audit finds the running network whole and the stopped ones absent", () => {
    const saved = read('saved/iptables-save.txt');
    expect(saved).toContain('-A LIBVIRT_FWO -s 192.168.157.0/24 -i virbr7 -j ACCEPT');
    // nft -j: iptables-nft's tables, as JSON (their rules come from iptables-save).
    expect(read('saved/nft-ruleset.json')).toContain('{"table": {"family": "ip", "name": "filter"');
    type Audit = {
      networks: Array<{ name: string; state: string; verdict: string }>;
      findings: Array<{
        id: string;
        severity: string;
        network: string | null;
        location: { file: string; line: number } | null;
      }>;
    };
    const json = JSON.parse(read('json.out')) as Audit;
    expect(json.networks.map((n) => [n.name, n.state, n.verdict])).toEqual([
      ['lab-nat', 'running', 'nat'],
      ['lab-isolated', 'inactive', 'none'],
      [CRAFTED, 'inactive', 'none'],
    ]);
    // libvirt's own rules for a NAT network: only the host-wide note that filter's FORWARD policy is ACCEPT.
    const lines = saved.split('\n');
    const policy = lines.indexOf(':FORWARD ACCEPT [0:0]', lines.indexOf('*filter')) + 1;
    expect(
      json.findings.map((f) => [f.severity, f.id, f.network, f.location && `${f.location.file}:${f.location.line}`]),
    ).toEqual([
      ['info', 'forward-policy-accept-with-ip-forward', null, `${join(out, 'saved', 'iptables-save.txt')}:${policy}`],
    ]);
  });

  it('LIBVIRT_DEFAULT_URI is the connection without --connect; text names what was collected', () => {
    expect([read('text.rc').trim(), read('text.err')]).toEqual(['0', '']);
    expect(read('text.out').split('\n').slice(1, 5)).toEqual([
      '  iptables-save     26 rules',
      '  ip6tables-save    7 rules',
      expect.stringMatching(/^ {2}nft ruleset {7}\d+ rules$/),
      `  libvirt networks  lab-isolated (defined, not running), lab-nat (running), ${CRAFTED} (defined, not running)`,
    ]);
    expect(read('text.out')).toContain(
      '\nvirtables audit live:iptables-save.txt, live:ip6tables-save.txt, live:nft-ruleset.json\n',
    );
    expect(read('text.out').endsWith('\n1 finding: 0 errors, 0 warnings, 1 info\n')).toBe(true);
  });

  it('without CAP_NET_ADMIN (not root): exit 2, what was refused and why, the networks still read', () => {
    expect(read('nocap.rc').trim()).toBe('2');
    expect(read('nocap.err').split('\n')).toEqual([
      'virtables live: could not collect iptables-save: iptables-save was refused (iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)); run virtables live as root (sudo virtables live)',
      'virtables live: could not collect ip6tables-save: ip6tables-save was refused (ip6tables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)); run virtables live as root (sudo virtables live)',
      'virtables live: could not collect nft: nft -j list ruleset was refused (Operation not permitted (you must be root)); run virtables live as root (sudo virtables live)',
      'virtables live: nothing to audit: no iptables-save, ip6tables-save or nft ruleset output was collected',
      '',
    ]);
    const json = JSON.parse(read('nocap.out')) as {
      collection: {
        networks: Array<{ name: string; active: boolean }>;
        problems: Array<{ source: string; kind: string }>;
      };
    };
    expect(json.collection.networks.map((n) => [n.name, n.active])).toEqual([
      ['lab-isolated', false],
      ['lab-nat', true],
      [CRAFTED, false],
    ]);
    expect(json.collection.problems.map((p) => `${p.source} ${p.kind}`)).toEqual([
      'iptables-save not-permitted',
      'ip6tables-save not-permitted',
      'nft not-permitted',
    ]);
  });
});
