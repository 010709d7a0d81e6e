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
  /** virtables refuses the original too, with this message (the parser refuses what the kernel refuses). */
  readonly ours?: RegExp;
  /** The smallest change that makes the kernel load it; virtables must agree with the result. */
  readonly repair?: (text: string) => string;
  /**
   * Old syntax virtables still reads (strict mode refuses it): the canonical print must load and come back unchanged.
   */
  readonly fixedPoint?: boolean;
  /** What the kernel lacks in a fresh namespace (an ipset): made first, then the file loads. */
  readonly setup?: string;
}

const censoredMac = (t: string) => t.replaceAll('XX:XX:XX:XX:XX:XX', '02:00:00:00:00:01');
const chair = {
  reason: /Invalid MAC address specified/,
  why: 'MAC addresses censored as XX:XX:XX:XX:XX:XX',
  ours: /mac: --mac-source: invalid MAC address 'XX:XX:XX:XX:XX:XX'/,
  repair: censoredMac,
};

/** Dumps the kernel here refuses, with its reason. */
const KERNEL_REJECTS: Readonly<Record<string, KernelRejects>> = {
  'real-world/config_veroneau.net__iptables-save': {
    reason: /Bad argument `COMMIT'/,
    why: 'trailing whitespace after COMMIT',
    ours: /:269:7: blanks around 'COMMIT'/,
    repair: (t) => t.replace(/[ \t]+$/gm, ''),
  },
  'real-world/config_vsrv__iptables-save.txt': {
    reason: /unable to initialize table 'nat\r'/,
    why: "CRLF line endings ('nat\\r'; virtables reads them as line ends)",
    repair: (t) => t.replace(/\r\n/g, '\n'),
  },
  'real-world/configs_serverfault__759927.txt': {
    reason: /Set whitelist doesn't exist/,
    why: "needs the ipset 'whitelist', which a fresh namespace lacks (virtables cannot see a host's sets)",
    setup: 'ipset create whitelist hash:ip',
  },
  'real-world/configs_ugent__iptables-save': {
    reason: /Bad argument `192\.168\.122\.0\/255\.255\.255\.0'/,
    why: 'iptables 1.3.5 syntax (-d ! ADDR/DOTTED-MASK)',
    fixedPoint: true,
  },
  'real-world/configs_ugent__iptables-save.v1.4.21': {
    reason: /Bad argument `192\.168\.122\.0\/24'/,
    why: 'old negation -d ! ADDR',
    fixedPoint: true,
  },
  'synthetic/iptables-semantics__parser-test__iptables-save': {
    reason: /unknown option "--something-else"/,
    why: 'an option no iptables module has',
    ours: /:12:55: unknown option '--something-else'/,
  },
  ...Object.fromEntries(
    [
      'ip6tables-save-2016-03-16_13-53-28',
      'iptables-save-2015-05-13_10-53-20',
      'iptables-save-2015-05-15_14-14-46',
      'iptables-save-2015-05-15_14-35-03',
      'iptables-save-2015-05-15_15-11-14',
      'iptables-save-2015-09-03_15-56-50',
      'iptables-save-2016-03-16_13-53-28',
      'iptables_25.07.2014',
    ].map((f) => [`real-world/configs_chair_for_Network_Architectures_and_Services__${f}`, chair]),
  ),
};

/** Files that are not clean dumps: virtables refuses them with this exact message. */
const NOT_DUMPS: Readonly<Record<string, string>> = {
  'real-world/blog_a-unikernel-firewall-for-qubesos__iptables-save':
    "real-world/blog_a-unikernel-firewall-for-qubesos__iptables-save:1:1: expected '*table', ':CHAIN POLICY', '-A CHAIN …', 'COMMIT' or '# comment', found 'This'",
  'real-world/config_private_root__iptables-save':
    "real-world/config_private_root__iptables-save:23:13: bad address '<private_ip>' (expected ADDRESS, ADDRESS/PREFIX or ADDRESS/NETMASK)",
};

const DIRS = [
  'real-world',
  'format',
  'libvirt/firewall/derived',
  'libvirt/firewall-legacy/derived',
  'libvirt-real',
  'xen',
  'synthetic',
];

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
        expect(
          files.map((f) => relative(SHARED_CORPUS, f)),
          `listed file ${name} exists`,
        ).toContain(name);
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
      const listed = KERNEL_REJECTS[name];
      if (listed?.ours) {
        // Refused by the kernel, and by virtables for the same reason; repaired, both agree.
        expect(() => parseSave(text, { file: name })).toThrow(listed.ours);
        const family = /^#.*ip6tables(-legacy|-nft)?-save/m.test(text) ? 'ipv6' : 'ipv4';
        const original = kernelRoundTrip(text, family);
        expect(original.ok, `the kernel still refuses ${name}`).toBe(false);
        expect(original.stderr).toMatch(listed.reason);
        if (!listed.repair) return;
        const repaired = listed.repair(text);
        const kernel = kernelRoundTrip(repaired, family);
        expect(kernel.ok, kernel.stderr).toBe(true);
        expectSameTables(formatDump(parseSave(repaired, { file: name })), kernel.stdout);
        return;
      }
      const dump = parseSave(text, { file: name });
      const family = dump.family ?? 'ipv4';
      const ours = formatDump(dump);
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
      if (listed.setup) {
        const kernel = kernelRoundTrip(text, family, 'legacy', false, listed.setup);
        expect(kernel.ok, kernel.stderr).toBe(true);
        expectSameTables(ours, kernel.stdout);
      } else if (listed.repair) {
        const repaired = listed.repair(text);
        const kernel = kernelRoundTrip(repaired, family);
        expect(kernel.ok, kernel.stderr).toBe(true);
        expectSameTables(formatDump(parseSave(repaired, { file: name })), kernel.stdout);
      } else if (listed.fixedPoint) {
        expect(() => parseSave(text, { file: name, strict: true }), 'strict mode refuses the old syntax').toThrow(
          /iptables 1\.8 refuses it/,
        );
        const again = kernelRoundTrip(ours, family);
        expect(again.ok, again.stderr).toBe(true);
        expectSameTables(ours, again.stdout);
      }
    });
  },
  { corpus: true, tools: ['ipset'] },
);

describeKernel('the seed lab (iptables 1.3.5 listings of seed 000)', () => {
  const files = walk(`${REPO_CORPUS}/seed-lab`).filter(looksLikeDump);

  it.each(files.map((f) => [relative(REPO_CORPUS, f), f]))(
    '%s loads into the kernel in canonical form, unchanged',
    (name, path) => {
      const ours = formatDump(parseSave(read(path), { file: name }));
      const kernel = kernelRoundTrip(ours, 'ipv4');
      expect(kernel.ok, kernel.stderr).toBe(true);
      expectSameTables(ours, kernel.stdout);
    },
  );
});

describe('the seed lab listings, canonically', () => {
  it('the clean host (nat + filter) prints as iptables 1.8.9 would', () => {
    const ours = formatDump(parseSave(read(`${REPO_CORPUS}/seed-lab/clean-host.save`), { file: 'clean-host.save' }));
    expect(ours).toBe(read(`${REPO_CORPUS}/seed-lab/clean-host.canonical.save`));
  });
  it("the lab's /etc/sysconfig/iptables (hand-written, -m tcp before -p tcp) means what iptables-save 1.3.5 listed", () => {
    const handWritten = formatDump(
      parseSave(read(`${REPO_CORPUS}/seed-lab/sysconfig-iptables`), { file: 'sysconfig-iptables' }),
    );
    const listed = formatDump(
      parseSave(read(`${REPO_CORPUS}/seed-lab/clean-host-filter-only.save`), { file: 'clean-host-filter-only.save' }),
    );
    expect(handWritten).toBe(listed);
  });
});
