// How long checking takes once the process is up: a policy of nine assertions on libvirt
// 9.0.0's real NAT rules (a port forward, a rule set, DNS, both-ways), and grading the seed
// lab's query 8 (two start orders, two sheets) and query 7 (a guest routing for another).

import { join } from 'node:path';
import { bench, describe } from 'vitest';
import { readBytesFromDisk } from '../../src/input/disk.js';
import { checkSheet } from '../../src/lab/check.js';
import { commandLineEvidence } from '../../src/lab/evidence.js';
import { gradeAnswers, readLab } from '../../src/lab/lab.js';
import { loadSheet } from '../../src/lab/sheet.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

const REAL = join(SHARED_CORPUS, 'libvirt-real', 'c-natted');
const LAB = join(REPO_CORPUS, 'labs', 'xen-networking');
const net = join(REAL, 'network.xml');

describe('check', () => {
  bench('natted.expect (9 assertions) on the real libvirt 9.0.0 capture', () => {
    const evidence = commandLineEvidence(
      {
        dump: join(REAL, 'after.txt'),
        before: join(REAL, 'before.txt'),
        rules: join(REPO_CORPUS, 'expect', 'real', 'portforward.txt'),
        guestDumps: new Map(),
        networks: readNetworks(read(net), net),
      },
      readBytesFromDisk,
    );
    checkSheet(
      loadSheet(join(REPO_CORPUS, 'expect', 'real', 'natted.expect'), evidence, readBytesFromDisk),
      evidence,
      readBytesFromDisk,
    );
  });
  const lab = readLab(LAB, readBytesFromDisk);
  bench('lab query 8, reference answer (2 sheets × 2 start orders)', () => {
    gradeAnswers(lab, join(LAB, 'answers', '8', 'reference'), '8', readBytesFromDisk);
  });
  bench('lab query 7, reference answer (a guest routing for another)', () => {
    gradeAnswers(lab, join(LAB, 'answers', '7', 'reference'), '7', readBytesFromDisk);
  });
});
