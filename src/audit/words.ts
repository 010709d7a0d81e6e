// How findings name things: networks with their bridge and subnets, rules as the dump has them.

import { formatCidr, type IpFamily } from '../model/cidr.js';
import type { NetworkInfo, Owner } from '../explain/attribute.js';
import type { Family, Rule } from '../model/dump.js';
import { formatRule } from '../write/save.js';

export function networkLabel(n: NetworkInfo): string {
  const parts = [
    n.bridge && n.bridge !== n.name ? n.bridge : null,
    ...n.subnets.map(formatCidr).filter((s) => s !== n.name),
  ].filter((x): x is string => x !== null);
  return parts.length > 0 ? `${n.name} (${parts.join(', ')})` : n.name;
}

export function ruleText(rule: Rule): string {
  return `\`${rule.text.trim()}\``;
}

/** "line 12 `-A FORWARD …`" */
export function atLine(rule: Rule): string {
  return `line ${rule.line} ${ruleText(rule)}`;
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

/** "IPv4" / "IPv6". */
export function familyName(family: Family): string {
  return family === 'ipv6' ? 'IPv6' : 'IPv4';
}

/** The family a simulated host was traced in, as dumps name it. */
export function familyOfProbes(probes: { readonly family: IpFamily }): Family {
  return probes.family === 6 ? 'ipv6' : 'ipv4';
}

/** " over IPv6" — and " over IPv4" when the host was traced in both families (one finding per family). */
export function overFamily(probes: { readonly family: IpFamily }, dualStack: boolean): string {
  return probes.family === 6 || dualStack ? ` over ${familyName(familyOfProbes(probes))}` : '';
}
