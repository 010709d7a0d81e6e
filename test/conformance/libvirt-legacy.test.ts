// libvirt's firewall test vectors from before private chains (../shared/corpus/libvirt/
// firewall-legacy, the 2014 form): `compile X.xml --flavor libvirt-legacy --format args`
// prints exactly X-linux.args, and the resulting firewall equals the kernel replay (derived/).

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { describeCorpus, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

const DIR = join(SHARED_CORPUS, 'libvirt', 'firewall-legacy');
const cases = (): string[] =>
  existsSync(DIR)
    ? readdirSync(DIR)
        .filter((f) => f.endsWith('.xml'))
        .map((f) => f.slice(0, -4))
        .sort()
    : [];

describeCorpus('libvirt legacy firewall test vectors (before 5.1.0)', async () => {
  const args: Array<{ name: string; got: string; want: string }> = [];
  const saves: Array<{ name: string; got: string; want: string }> = [];
  for (const name of cases()) {
    const xml = join(DIR, `${name}.xml`);
    const a = await runCli(['compile', xml, '--flavor', 'libvirt-legacy', '--format', 'args']);
    args.push({ name, got: a.code === 0 ? a.stdout : a.stderr, want: read(join(DIR, `${name}-linux.args`)) });
    for (const [family, ext] of [
      ['ipv4', 'iptables-save'],
      ['ipv6', 'ip6tables-save'],
    ] as const) {
      const derived = join(DIR, 'derived', `${name}-linux.${ext}`);
      const s = await runCli(['compile', xml, '--flavor', 'libvirt-legacy', '--family', family]);
      // an ip6tables replay that printed nothing is not kept in derived/: then nothing may be derived
      saves.push({
        name: `${name} ${family}`,
        got: s.code === 0 ? s.stdout : s.stderr,
        want: existsSync(derived) ? read(derived) : '',
      });
    }
  }
  const count = (list: typeof args) => `${list.filter((o) => o.got === o.want).length}/${list.length}`;

  it(`${count(args)} cases: compile X.xml --flavor libvirt-legacy --format args == X-linux.args`, () => {
    expect(args.length).toBeGreaterThan(0);
    for (const o of args) expect(o.got, o.name).toBe(o.want);
  });

  it(`${count(saves)} dumps: --format save (both families) == derived/ replay`, () => {
    for (const o of saves) expect(o.got, o.name).toBe(o.want);
  });
});
