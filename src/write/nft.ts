// The nftables ruleset as `nft list ruleset` prints it (nftables 1.0.6): what a host running
// libvirt's nftables backend shows, and what `nft -f` loads back.

import type { NftStateChain, NftState } from '../engine/nft-state.js';

const PRIORITY_NAMES: ReadonlyArray<{ value: number; name: string; types: readonly string[] }> = [
  { value: -300, name: 'raw', types: ['filter'] },
  { value: -150, name: 'mangle', types: ['filter', 'route'] },
  { value: -100, name: 'dstnat', types: ['nat'] },
  { value: 0, name: 'filter', types: ['filter'] },
  { value: 50, name: 'security', types: ['filter'] },
  { value: 100, name: 'srcnat', types: ['nat'] },
];

/**
 * `{ type filter hook forward priority 0; policy accept; }` → `type filter hook forward priority filter; policy
 * accept;`
 */
function baseChainLine(spec: string): string {
  const m = /type\s+(\S+)\s+hook\s+(\S+)\s+priority\s+(-?\d+)\s*;\s*(?:policy\s+(\S+?)\s*;)?/.exec(spec);
  if (!m) return spec.replace(/^\{\s*|\s*\}$/g, '');
  const [, type, hook, prio, policy] = m;
  const named = PRIORITY_NAMES.find((p) => p.value === Number(prio) && p.types.includes(type!));
  return `type ${type} hook ${hook} priority ${named ? named.name : prio};${policy ? ` policy ${policy};` : ''}`;
}

const CT_STATES = ['invalid', 'established', 'related', 'new', 'untracked'];

/** One rule's statement words as nft prints them back. */
export function formatNftStatement(words: readonly string[], family: string): string {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const prev = words[i - 1];
    if (prev === 'iif' || prev === 'oif' || prev === 'iifname' || prev === 'oifname') {
      out.push(`"${word}"`);
    } else if (prev === 'state' && words[i - 2] === 'ct') {
      const states = word.split(',');
      out.push(CT_STATES.filter((s) => states.includes(s)).join(','));
    } else if (word === 'counter') {
      out.push('counter packets 0 bytes 0');
    } else if ((prev === 'saddr' || prev === 'daddr' || prev === '!=') && /\/(32|128)$/.test(word)) {
      // a full-length prefix is printed as the bare address
      const full = (family === 'ip6' && word.endsWith('/128')) || (family !== 'ip6' && word.endsWith('/32'));
      out.push(full ? word.replace(/\/\d+$/, '') : word);
    } else {
      out.push(word);
    }
  }
  return out.join(' ');
}

function formatChain(chain: NftStateChain, family: string): string {
  const lines = [`\tchain ${chain.name} {`];
  if (chain.spec) lines.push(`\t\t${baseChainLine(chain.spec)}`);
  for (const rule of chain.rules) lines.push(`\t\t${formatNftStatement(rule.statement, family)}`);
  lines.push('\t}');
  return lines.join('\n');
}

export function formatNftRuleset(ruleset: NftState): string {
  return ruleset.tables
    .map((t) => `table ${t.family} ${t.name} {\n${t.chains.map((c) => formatChain(c, t.family)).join('\n\n')}\n}\n`)
    .join('');
}
