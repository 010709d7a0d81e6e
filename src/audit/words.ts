// How findings name things: networks with their bridge and subnets, rules as the dump has them.

import { formatCidr } from '../model/cidr.js';
import type { NetworkInfo, Owner } from '../explain/attribute.js';
import type { Rule } from '../model/dump.js';
import { formatRule } from '../write/save.js';

export function networkLabel(n: NetworkInfo): string {
  const parts = [n.bridge && n.bridge !== n.name ? n.bridge : null, ...n.subnets.map(formatCidr).filter((s) => s !== n.name)].filter((x): x is string => x !== null);
  return parts.length > 0 ? `${n.name} (${parts.join(', ')})` : n.name;
}

export function ruleText(rule: Rule): string {
  return `\`${rule.text.trim()}\``;
}

/** "line 12 `-A FORWARD …`" */
export function atLine(rule: Rule): string {
  return `line ${rule.pos.line} ${ruleText(rule)}`;
}

export const OWNER_NAMES: Readonly<Record<Owner, string>> = {
  libvirt: 'libvirt',
  xen: "Xen's scripts",
  docker: 'Docker',
  ufw: 'ufw',
  firewalld: 'firewalld',
  host: "the host's own rules",
};

export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=,+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The command that deletes `rule` (canonical spelling, which any iptables accepts). */
export function deleteCommand(rule: Rule, family: 'ipv4' | 'ipv6' = 'ipv4'): string {
  return `${family === 'ipv6' ? 'ip6tables' : 'iptables'} -t ${rule.table} ${formatRule(rule, family).replace(/^-A /, '-D ')}`;
}
