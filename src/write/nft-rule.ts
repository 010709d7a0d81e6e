// One nft rule as nft prints it inside a chain (`ip saddr 192.168.122.0/24 iif "virbr0" accept`),
// for traces and findings that name the rule that decided. Counters print without their values:
// a rule is named by what it does, not by how often it did it.

import type { NftExpr, NftRule, NftStatement } from '../model/nft.js';

const quoted = new Set(['iifname', 'oifname', 'iif', 'oif']);

export function nftExprText(e: NftExpr, key: string | null = null): string {
  switch (e.kind) {
    case 'value':
      if (typeof e.value === 'string' && key !== null && quoted.has(key)) return `"${e.value}"`;
      return typeof e.value === 'boolean' ? (e.value ? 'exists' : 'missing') : String(e.value);
    case 'setref': return `@${e.name}`;
    case 'list': return e.items.map((i) => nftExprText(i, key)).join(',');
    case 'set': return `{ ${e.items.map((i) => nftExprText(i, key)).join(', ')} }`;
    case 'mapping': return `${nftExprText(e.key, key)} : ${nftExprText(e.value)}`;
    case 'elem': return nftExprText(e.value, key);
    case 'map': return `${nftExprText(e.key)} map ${nftExprText(e.data)}`;
    case 'concat': return e.items.map((i) => nftExprText(i)).join(' . ');
    case 'range': return `${nftExprText(e.low, key)}-${nftExprText(e.high, key)}`;
    case 'prefix': return `${nftExprText(e.addr)}/${e.len}`;
    case 'payload': return `${e.protocol} ${e.field}`;
    case 'payload-raw': return `@${e.base},${e.offset},${e.len}`;
    case 'meta': return ['iif', 'oif', 'iifname', 'oifname', 'mark'].includes(e.key) ? e.key : `meta ${e.key}`;
    case 'ct': return `ct${e.dir ? ` ${e.dir}` : ''}${e.family ? ` ${e.family}` : ''} ${e.key}`;
    case 'fib': return `fib ${e.flags.join(' . ')} ${e.result}`;
    case 'binop': return `${nftExprText(e.left)} ${e.op} ${nftExprText(e.right)}`;
    case 'verdict': return e.target ? `${e.verdict} ${e.target}` : e.verdict;
    case 'unknown': return e.text ?? e.what;
  }
}

function keyName(e: NftExpr): string | null {
  return e.kind === 'meta' ? e.key : null;
}

export function nftStatementText(s: NftStatement): string {
  switch (s.kind) {
    case 'match': {
      const op = s.op === '==' || s.op === 'in' ? '' : `${s.op} `;
      return `${nftExprText(s.left)} ${op}${nftExprText(s.right, keyName(s.left))}`;
    }
    case 'verdict': return s.target ? `${s.verdict} ${s.target}` : s.verdict;
    case 'counter': return s.name ? `counter name ${s.name}` : 'counter';
    case 'log': return `log${s.prefix !== null ? ` prefix "${s.prefix}"` : ''}`;
    case 'limit': return s.name ? `limit name ${s.name}` : `limit rate ${s.inv ? 'over ' : ''}${s.rate}/${s.per}`;
    case 'quota': return s.name ? `quota name ${s.name}` : `quota ${s.inv ? 'over ' : ''}${s.val} ${s.valUnit}`;
    case 'reject': return `reject${s.type === null ? '' : s.type === 'tcp reset' ? ' with tcp reset' : ` with ${s.type} ${s.code ?? ''}`.trimEnd()}`;
    case 'nat': {
      const addr = s.addr ? ` ${s.family ? `${s.family} ` : ''}to ${nftExprText(s.addr)}` : '';
      const port = s.port ? `${addr ? '' : ' to '}:${nftExprText(s.port)}` : '';
      return `${s.nat}${addr}${port}${s.flags.length ? ` ${s.flags.join(',')}` : ''}`;
    }
    case 'mangle': return `${nftExprText(s.key)} set ${nftExprText(s.value)}`;
    case 'vmap': return `${nftExprText(s.key)} vmap ${nftExprText(s.data)}`;
    case 'notrack': return 'notrack';
    case 'queue': return 'queue';
    case 'set': return `${s.op} @${s.set} { ${nftExprText(s.elem)} }`;
    case 'xt': return `xt ${s.type} ${s.name}`;
    case 'unknown': return s.text ?? s.what;
  }
}

export function nftRuleText(rule: NftRule): string {
  return rule.statements.map(nftStatementText).join(' ');
}
