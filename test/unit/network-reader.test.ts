// One reader of network files (src/input/networks.ts): a file named by `--net`, by a topology
// file's `network` line or by a lab sheet's `network … from "…"` reads the same — a Xen host's
// xend-config.sxp, a Xen set-up file and libvirt XML alike (before, the topology file took the
// .sxp for XML, "text outside the root element", and the sheet for a set-up file).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/io.js';
import { readNetworkInputs } from '../../src/cli/inputs.js';
import { topologySpec } from '../../src/cli/topology-options.js';
import { readBytesFromDisk } from '../../src/input/disk.js';
import { commandLineEvidence } from '../../src/lab/evidence.js';
import { loadSheet } from '../../src/lab/sheet.js';
import type { AnyNetwork } from '../../src/model/network.js';
import { REPO_CORPUS } from '../helpers/env.js';

const io: Io = {
  stdout: () => {},
  stderr: () => {},
  stdoutIsTTY: false,
  stderrIsTTY: false,
  env: {},
  readBytes: readBytesFromDisk,
};

const FILES = [
  join(REPO_CORPUS, 'xen', 'xend-config-nat.sxp'),
  join(REPO_CORPUS, 'xen', 'head-vif-nat-ip', 'online.xen'),
  join(REPO_CORPUS, 'seed-lab', 'natted.xml'),
];

/** What a network says, without where it was read from. */
const meaning = (n: AnyNetwork): string =>
  JSON.stringify({ ...n, origin: undefined }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

describe('network files read alike by --net, topology files and lab sheets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vt-netreader-'));
  for (const file of FILES) {
    it(file.slice(REPO_CORPUS.length + 1), () => {
      const given = readNetworkInputs('trace', [file], io);
      expect(given).toHaveLength(1);
      const name = given[0]!.name;

      const topo = join(dir, `${name}.topo`);
      writeFileSync(topo, `network ${file}\n`);
      const fromTopology = topologySpec('trace', { topology: topo }, io).networks;
      expect(fromTopology.map(meaning)).toEqual(given.map(meaning));

      const sheet = join(dir, `${name}.expect`);
      writeFileSync(sheet, `title "reader"\nnetwork ${name} from "${file}"\n`);
      const world = loadSheet(
        sheet,
        commandLineEvidence(
          { dump: null, before: null, rules: null, guestDumps: new Map(), networks: [] },
          readBytesFromDisk,
        ),
        readBytesFromDisk,
      );
      expect(world.networks.map((n) => meaning(n.network))).toEqual(given.map(meaning));
    });
  }
});
