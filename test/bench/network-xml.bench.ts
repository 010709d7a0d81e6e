// How long reading network definitions takes, on real files and on hostile input (each hostile
// case must fail in well under a second: it is refused early, not expanded or lexed in full).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bench, describe } from 'vitest';
import { parseXml } from '../../grammar/network-xml.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { REPO_CORPUS } from '../helpers/env.js';
import { refused } from '../helpers/errors.js';

const concatenated = readFileSync(join(REPO_CORPUS, 'network-xml', 'concatenated.xml'), 'utf8');
// A host with a thousand networks, as `for n in …; do virsh net-dumpxml $n; done` prints them.
const thousand = Array.from({ length: 1000 }, (_, i) => {
  const net = `10.${i >> 8}.${i & 255}`;
  return `<network>\n  <name>net${i}</name>\n  <forward mode='nat'>\n    <nat>\n      <port start='1024' end='65535'/>\n    </nat>\n  </forward>\n  <bridge name='virbr${i}' stp='on' delay='0'/>\n  <ip address='${net}.1' netmask='255.255.255.0'>\n    <dhcp>\n      <range start='${net}.2' end='${net}.254'/>\n    </dhcp>\n  </ip>\n</network>\n`;
}).join('');
const billionLaughs = readFileSync(join(REPO_CORPUS, 'network-xml', 'bad', 'billion-laughs.xml'), 'utf8');
const bigAttribute = `<network>\n  <bridge name="${'x'.repeat(10 * 1024 * 1024)}"/>\n</network>\n`;
const manyTags = `<network>${'<a/>'.repeat(2_600_000)}</network>`;
const ampersands = `<network>${'&'.repeat(10 * 1024 * 1024)}</network>`;
const unclosed = `<network>${'<a>'.repeat(50_000)}`;

describe('network XML', () => {
  bench('concatenated.xml (3 networks)', () => void readNetworks(concatenated, 'c.xml'));
  bench('1000 networks (450 KB)', () => void readNetworks(thousand, 't.xml'));
  bench(
    'billion laughs (refused)',
    refused(() => parseXml(billionLaughs, 'b.xml')),
  );
  bench(
    '10 MB attribute (refused)',
    refused(() => parseXml(bigAttribute, 'a.xml')),
    { iterations: 5 },
  );
  bench(
    '10 MB of tiny tags (refused)',
    refused(() => parseXml(manyTags, 'm.xml')),
    { iterations: 5 },
  );
  bench(
    '10 MB of bare ampersands (refused)',
    refused(() => parseXml(ampersands, 'p.xml')),
    { iterations: 5 },
  );
  bench(
    '50,000 unclosed tags (refused)',
    refused(() => parseXml(unclosed, 'u.xml')),
    { iterations: 5 },
  );
});
