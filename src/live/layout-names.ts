// The file names of a collection directory (src/live/layout.ts reads and writes it), apart so
// that reading dumps from a directory does not load the collector and its command runner.

import { join } from 'node:path';

export const LAYOUT = {
  manifest: 'collected.txt',
  iptables: 'iptables-save.txt',
  ip6tables: 'ip6tables-save.txt',
  nft: 'nft-ruleset.json',
  /** What earlier collections (and an nft without -j) hold: the text listing. */
  nftText: 'nft-ruleset.txt',
  networks: 'networks',
  active: join('networks', 'active.txt'),
} as const;
