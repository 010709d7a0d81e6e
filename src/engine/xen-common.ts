// What Xen's hotplug scripts add per guest interface (vif-common.sh handle_iptable /
// frob_iptable, shared by vif-bridge, vif-nat and vif-route), by Xen release. Boundaries
// come from the scripts' git history (shared/research/xen.md) and are checked against real
// runs of each release's scripts (shared/corpus/xen/captures).

import { formatCidr, formatHost, parseCidr } from '../model/cidr.js';
import type { XenNetwork, XenVif } from '../model/network.js';
import { command, ruleFromOptions } from './iptables.js';
import type { Command } from './program.js';
import type { Purpose, WhyContext } from './why.js';
import { compareVersions, type Version } from './version.js';

export interface XenEra {
  readonly label: string;
  /** `iptables -w` (iptables_w, 4.10+). */
  readonly wait: boolean;
  /** `iptables -L -n` checks run per vif: two from 4.10 (iptables_w's probe + handle_iptable's), one before. */
  readonly probes: number;
  /** frob_iptable appends (-A) before 3.4, inserts (-I) since. */
  readonly add: '-A' | '-I';
  /**
   * The `--physdev-out` rule: none before 3.4; with `-m state --state RELATED,ESTABLISHED` in 3.4–4.0; plain from 4.1.
   */
  readonly physdevOut: 'none' | 'stateful' | 'plain';
  /** `--physdev-is-bridged` on both rules (4.1+). */
  readonly bridged: boolean;
  /** 3.0.0–3.0.3 quoted "$ip" in `for addr in "$ip"`: several addresses became one `-s` argument iptables refuses. */
  readonly quotingBug: boolean;
  /** network-bridge/nat/route exist (until 4.4). */
  readonly networkScripts: boolean;
  /** network-bridge antispoofing also accepts dom0's vif0.N (3.0.x). */
  readonly antispoofDom0: boolean;
}

export const XEN_BOUNDARIES: ReadonlyArray<{ feature: string; since: string; source: string }> = [
  {
    feature: 'vif addresses each get their own -s rule (quoting bug fixed)',
    since: '3.0.4',
    source: 'vif-common.sh 2dd30a7333 (2006-11-21); capture old-vif-bridge-3.0.0',
  },
  {
    feature: 'network-bridge antispoofing no longer accepts vif0.N',
    since: '3.2',
    source: 'network-bridge of 3.0.0 vs 3.2; captures network-bridge-antispoof-{3.0.0,4.4}',
  },
  {
    feature: 'frob_iptable inserts (-I) and adds a RELATED,ESTABLISHED --physdev-out rule',
    since: '3.4',
    source: 'vif-common.sh 891410cbc4 (3.4.0-rc3); capture old-vif-bridge-4.0.0',
  },
  {
    feature: '--physdev-is-bridged on both rules, state match dropped',
    since: '4.1',
    source: 'vif-common.sh adee1dd918, 26637cd320 (2010)',
  },
  {
    feature: 'network-bridge/nat/route and xend removed',
    since: '4.5',
    source: 'tools/hotplug 9fabe55939 (2014-04-09)',
  },
  {
    feature: 'iptables -w on every command',
    since: '4.10',
    source: 'vif-common.sh 3d2010f9ff (2017-06-05); captures head-*',
  },
];

export function xenEra(version: Version): XenEra {
  const at = (v: string): boolean => compareVersions(version, v) >= 0;
  return {
    label: `xen ${version.text}`,
    wait: at('4.10'),
    probes: at('4.10') ? 2 : 1,
    add: at('3.4') ? '-I' : '-A',
    physdevOut: at('4.1') ? 'plain' : at('3.4') ? 'stateful' : 'none',
    bridged: at('4.1'),
    quotingBug: !at('3.0.4'),
    networkScripts: !at('4.5'),
    antispoofDom0: !at('3.2'),
  };
}

/** iptables argv for a Xen script, with the era's `-w`. */
function iptablesArgv(era: XenEra, args: readonly string[]): string[] {
  return ['iptables', ...(era.wait ? ['-w'] : []), ...args];
}

/**
 * One `iptables -A|-I TABLE-CHAIN OPTIONS` command of a script: its effect on the dump, or
 * `refused` when iptables would reject the arguments.
 */
export function scriptRule(
  era: XenEra,
  network: string,
  op: '-A' | '-I',
  table: string,
  chain: string,
  options: readonly string[],
  purpose: Purpose,
  context: WhyContext,
  refused?: string,
): Command {
  const argv = iptablesArgv(era, [...(table === 'filter' ? [] : ['-t', table]), op, chain, ...options]);
  if (refused) return command(argv, { kind: 'refused', reason: refused }, { network, purpose, context });
  const rule = ruleFromOptions(table, chain, options);
  const effect =
    op === '-I'
      ? { kind: 'insert' as const, family: 'ipv4' as const, table, chain, position: 1, rule }
      : { kind: 'append' as const, family: 'ipv4' as const, table, chain, rule };
  return command(argv, effect, { network, purpose, context });
}

/** vif-nat's default when xenstore has no ip: 10.(domid/256).(domid%256).(devid+1)/16. */
export function vifNatDefaultIp(vif: XenVif): string {
  return `10.${Math.floor(vif.domid / 256)}.${vif.domid % 256}.${vif.devid + 1}/16`;
}

/** handle_iptable for one vif coming online: the checks, then frob_iptable per address and for DHCP. */
export function vifCommands(era: XenEra, network: XenNetwork, vif: XenVif, ips: readonly string[]): Command[] {
  const commands: Command[] = [];
  const base: WhyContext = { network: network.name, vif: vif.name, stateful: era.physdevOut === 'stateful' };
  for (let i = 0; i < era.probes; i++)
    commands.push(
      command(
        iptablesArgv(era, ['-L', '-n']),
        { kind: 'none' },
        { network: network.name, purpose: 'probe', context: base },
      ),
    );

  const physdev = (direction: '--physdev-in' | '--physdev-out'): string[] => [
    '-m',
    'physdev',
    ...(era.bridged ? ['--physdev-is-bridged'] : []),
    direction,
    vif.name,
  ];
  const frob = (extra: readonly string[], purpose: Purpose, context: WhyContext, refused?: string): void => {
    commands.push(
      scriptRule(
        era,
        network.name,
        era.add,
        'filter',
        'FORWARD',
        [...physdev('--physdev-in'), ...extra, '-j', 'ACCEPT'],
        purpose,
        context,
        refused,
      ),
    );
    if (era.physdevOut === 'none') return;
    const state = era.physdevOut === 'stateful' ? ['-m', 'state', '--state', 'RELATED,ESTABLISHED'] : [];
    commands.push(
      scriptRule(
        era,
        network.name,
        era.add,
        'filter',
        'FORWARD',
        [...state, ...physdev('--physdev-out'), '-j', 'ACCEPT'],
        'xen-vif-out',
        base,
      ),
    );
  };

  if (ips.length === 0) {
    frob([], 'xen-vif-in', base);
  } else if (era.quotingBug && ips.length > 1) {
    const joined = ips.join(' ');
    frob(
      ['-s', joined],
      'xen-vif-in',
      { ...base, address: joined },
      `iptables rejects '-s ${joined}' (host/network not found): ${era.label} passed every address as one argument`,
    );
  } else {
    // The sentence names what the rule matches: vif-nat's 10.0.3.1/16 accepts all of 10.0.0.0/16.
    for (const address of ips) frob(['-s', address], 'xen-vif-in', { ...base, address: matchedAddress(address) });
  }
  if (ips.length > 0) frob(['-p', 'udp', '--sport', '68', '--dport', '67'], 'xen-vif-dhcp', base);
  return commands;
}

/** `10.0.0.5` → `10.0.0.5`, `10.0.3.1/16` → `10.0.0.0/16`: the source as iptables stores it. */
function matchedAddress(address: string): string {
  const cidr = parseCidr(address);
  if (!cidr) return address;
  const host = cidr.prefix === (cidr.family === 4 ? 32 : 128);
  return host ? formatHost(cidr.family, cidr.network) : formatCidr(cidr);
}
