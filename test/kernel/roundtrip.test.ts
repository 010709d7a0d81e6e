// Parsing loses nothing: for every iptables-save dump in the shared corpus, virtables'
// canonical print equals what real iptables 1.8.9 prints after `iptables-restore` of the same
// file in a fresh network namespace (tables compared by name; `#` lines and counters ignored).

import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { InputError } from '../../src/model/errors.js';
import { formatDump } from '../../src/write/save.js';
import { describeKernel, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { looksLikeDump, read, walk } from '../helpers/files.js';
import { kernelRoundTrip, tablesOf } from '../helpers/kernel.js';

interface KernelRejects {
  /** The kernel's own message for the original file (checked, not assumed). */
  readonly reason: RegExp;
  readonly why: string;
  /** The smallest change that makes the kernel load it; virtables must agree with the result. */
  readonly repair?: (text: string) => string;
  /** Old syntax the kernel no longer reads: the canonical print must load and come back unchanged. */
  readonly fixedPoint?: boolean;
}

const censoredMac = (t: string) => t.replaceAll('XX:XX:XX:XX:XX:XX', '02:00:00:00:00:01');
const chair = { reason: /Invalid MAC address specified/, why: 'MAC addresses censored as XX:XX:XX:XX:XX:XX', repair: censoredMac };

/** Dumps the kernel here refuses, with its reason. */
const KERNEL_REJECTS: Readonly<Record<string, KernelRejects>> = {
  'real-world/config_veroneau.net__iptables-save': { reason: /Bad argument `COMMIT'/, why: 'trailing whitespace after COMMIT', repair: (t) => t.replace(/[ \t]+$/gm, '') },
  'real-world/config_vsrv__iptables-save.txt': { reason: /unable to initialize table 'nat\r'/, why: "CRLF line endings ('nat\\r')", repair: (t) => t.replace(/\r\n/g, '\n') },
  'real-world/configs_serverfault__759927.txt': { reason: /Set whitelist doesn't exist/, why: "needs the ipset 'whitelist', which does not exist in a fresh namespace" },
  'real-world/configs_ugent__iptables-save': { reason: /Bad argument `192\.168\.122\.0\/255\.255\.255\.0'/, why: 'iptables 1.3.5 syntax (-d ! ADDR/DOTTED-MASK)', fixedPoint: true },
  'real-world/configs_ugent__iptables-save.v1.4.21': { reason: /Bad argument `192\.168\.122\.0\/24'/, why: 'old negation -d ! ADDR', fixedPoint: true },
  'synthetic/iptables-semantics__parser-test__iptables-save': { reason: /unknown option "--something-else"/, why: 'an option no iptables module has (carried verbatim by virtables)' },
  ...Object.fromEntries(
    [
      'ip6tables-save-2016-03-16_13-53-28', 'iptables-save-2015-05-13_10-53-20', 'iptables-save-2015-05-15_14-14-46',
      'iptables-save-2015-05-15_14-35-03', 'iptables-save-2015-05-15_15-11-14', 'iptables-save-2015-09-03_15-56-50',
      'iptables-save-2016-03-16_13-53-28', 'iptables_25.07.2014',
    ].map((f) => [`real-world/configs_chair_for_Network_Architectures_and_Services__${f}`, chair]),
  ),
};

/** Files that are not clean dumps: virtables refuses them with this exact message. */
const NOT_DUMPS: Readonly<Record<string, string>> = {
  'real-world/blog_a-unikernel-firewall-for-qubesos__iptables-save':
    "real-world/blog_a-unikernel-firewall-for-qubesos__iptables-save:1:1: expected '*table', ':CHAIN POLICY', '-A CHAIN …', 'COMMIT' or '# comment', found 'This'",
  'real-world/config_private_root__iptables-save':
    "real-world/config_private_root__iptables-save:23:13: bad address '<private_ip>/32' (expected ADDRESS, ADDRESS/PREFIX or ADDRESS/NETMASK)",
};

const DIRS = ['real-world', 'format', 'libvirt/firewall/derived', 'libvirt/firewall-legacy/derived', 'libvirt-real', 'xen', 'synthetic'];

function dumpsUnder(root: string, dirs: readonly string[]): string[] {
  return dirs.flatMap((d) => walk(`${root}/${d}`)).filter(looksLikeDump);
}

function expectSameTables(ours: string, kernel: string): void {
  const a = tablesOf(ours);
  const b = tablesOf(kernel);
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [name, body] of b) expect(a.get(name), `table ${name}`).toBe(body);
}

describeKernel(
  'shared corpus dumps: canonical print == kernel round trip',
  () => {
    const files = dumpsUnder(SHARED_CORPUS, DIRS);
    const rejected = files.filter((f) => KERNEL_REJECTS[relative(SHARED_CORPUS, f)]).length;
    const refused = files.filter((f) => NOT_DUMPS[relative(SHARED_CORPUS, f)]).length;

    it(`finds the corpus (${files.length} dumps: ${files.length - rejected - refused} loaded by the kernel, ${rejected} refused by it with a listed reason, ${refused} not clean dumps)`, () => {
      expect(files.length).toBeGreaterThan(90);
      for (const name of [...Object.keys(KERNEL_REJECTS), ...Object.keys(NOT_DUMPS)]) {
        expect(files.map((f) => relative(SHARED_CORPUS, f)), `listed file ${name} exists`).toContain(name);
      }
    });

    it.each(files.map((f) => [relative(SHARED_CORPUS, f), f]))('%s', (name, path) => {
      const text = read(path);
      const refusal = NOT_DUMPS[name];
      if (refusal) {
        expect(() => parseSave(text, { file: name })).toThrow(InputError);
        expect(() => parseSave(text, { file: name })).toThrow(refusal);
        return;
      }
      const dump = parseSave(text, { file: name });
      const family = dump.family ?? 'ipv4';
      const ours = formatDump(dump);
      const listed = KERNEL_REJECTS[name];
      if (!listed) {
        const kernel = kernelRoundTrip(text, family);
        expect(kernel.stderr, 'kernel accepts the file').toBe('');
        expect(kernel.ok).toBe(true);
        expectSameTables(ours, kernel.stdout);
        return;
      }
      const original = kernelRoundTrip(text, family);
      expect(original.ok, `the kernel still refuses ${name}`).toBe(false);
      expect(original.stderr).toMatch(listed.reason);
      if (listed.repair) {
        const repaired = listed.repair(text);
        const kernel = kernelRoundTrip(repaired, family);
        expect(kernel.ok, kernel.stderr).toBe(true);
        expectSameTables(formatDump(parseSave(repaired, { file: name })), kernel.stdout);
      } else if (listed.fixedPoint) {
        const again = kernelRoundTrip(ours, family);
        expect(again.ok, again.stderr).toBe(true);
        expectSameTables(ours, again.stdout);
      } else {
        // What the kernel cannot load was carried through verbatim: it refuses our print for the same reason.
        expect(kernelRoundTrip(ours, family).stderr).toMatch(listed.reason);
      }
    });
  },
  { corpus: true },
);

describeKernel('the seed lab (iptables 1.3.5 listings of seed 000)', () => {
  const files = walk(`${REPO_CORPUS}/seed-lab`).filter(looksLikeDump);

  it.each(files.map((f) => [relative(REPO_CORPUS, f), f]))('%s loads into the kernel in canonical form, unchanged', (name, path) => {
    const ours = formatDump(parseSave(read(path), { file: name }));
    const kernel = kernelRoundTrip(ours, 'ipv4');
    expect(kernel.ok, kernel.stderr).toBe(true);
    expectSameTables(ours, kernel.stdout);
  });
});

describe('the seed lab listings, canonically', () => {
  it('the clean host (nat + filter) prints as iptables 1.8.9 would', () => {
    const ours = formatDump(parseSave(read(`${REPO_CORPUS}/seed-lab/clean-host.save`), { file: 'clean-host.save' }));
    expect(ours).toBe(read(`${REPO_CORPUS}/seed-lab/clean-host.canonical.save`));
  });
  it("the lab's /etc/sysconfig/iptables (hand-written, -m tcp before -p tcp) means what iptables-save 1.3.5 listed", () => {
    const handWritten = formatDump(parseSave(read(`${REPO_CORPUS}/seed-lab/sysconfig-iptables`), { file: 'sysconfig-iptables' }));
    const listed = formatDump(parseSave(read(`${REPO_CORPUS}/seed-lab/clean-host-filter-only.save`), { file: 'clean-host-filter-only.save' }));
    expect(handWritten).toBe(listed);
  });
});
