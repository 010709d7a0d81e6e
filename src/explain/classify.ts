// Recognising the rules libvirt and Xen install, in a dump of any era: which job a rule does
// (its Purpose, the engine's vocabulary) and the context its sentence needs. Shapes are those
// the engine derives (src/engine), matched on the parsed rule so any spelling era fits.

import { match as matchOn, P } from 'ts-pattern';
import { formatCidr, type Cidr } from '../model/cidr.js';
import type { Family, Match, Rule } from '../model/dump.js';
import { HOOKS } from '../engine/libvirt.js';
import type { Purpose, WhyContext } from '../engine/why.js';

export interface Classified {
  readonly purpose: Purpose;
  readonly context: WhyContext;
  /** The libvirt bridge, Xen vif or uplink the rule is about (what ties it to a network). */
  readonly bridge: string | null;
  readonly subnet: Cidr | null;
  readonly vif: string | null;
}

/** Chains libvirt uses, by role, in both eras (legacy built-in chains, 5.1+ private chains). */
const ROLE_CHAINS = {
  input: ['INPUT', 'LIBVIRT_INP'],
  output: ['OUTPUT', 'LIBVIRT_OUT'],
  forwardOut: ['FORWARD', 'LIBVIRT_FWO'],
  forwardIn: ['FORWARD', 'LIBVIRT_FWI'],
  forwardCross: ['FORWARD', 'LIBVIRT_FWX'],
  postrouting: ['POSTROUTING', 'LIBVIRT_PRT'],
} as const;

/** The jumps libvirt's one-time set-up inserts into the built-in chains (5.1+). */
export const LIBVIRT_HOOKS = HOOKS;

export const LIBVIRT_CHAINS = new Set(LIBVIRT_HOOKS.map((h) => h.child));

const SERVICE_PORTS: Readonly<Record<string, { in?: Purpose; out?: Purpose }>> = {
  '67': { in: 'dhcp-in' },
  '68': { out: 'dhcp-out' },
  '53': { in: 'dns-in', out: 'dns-out' },
  '69': { in: 'tftp-in', out: 'tftp-out' },
  '547': { in: 'dhcpv6-in' },
  '546': { out: 'dhcpv6-out' },
};

const in_ = (chain: string, role: keyof typeof ROLE_CHAINS): boolean =>
  (ROLE_CHAINS[role] as readonly string[]).includes(chain);

function only(
  rule: Rule,
  ...present: Array<'source' | 'destination' | 'inInterface' | 'outInterface' | 'protocol'>
): boolean {
  const fields = ['source', 'destination', 'inInterface', 'outInterface', 'protocol'] as const;
  return !rule.fragment && fields.every((f) => (rule[f] !== null) === present.includes(f));
}

const plainIface = (i: Rule['inInterface']): string | null => (i && !i.negated ? i.name : null);

function value(m: Match | undefined, option: string): string | undefined {
  const o = m?.options.find((x) => x.name === option && !x.negated);
  return o?.args.map((a) => a.value).join(' ');
}

/** `-p P -m P --dport N` and nothing else. */
function destinationPortOnly(rule: Rule): string | null {
  const proto = rule.protocol;
  if (!proto || proto.negated || (proto.name !== 'tcp' && proto.name !== 'udp')) return null;
  if (rule.matches.length !== 1) return null;
  const m = rule.matches[0]!;
  if (m.name !== proto.name || m.options.length !== 1) return null;
  return value(m, '--dport') ?? value(m, '--destination-port') ?? null;
}

function isReplies(m: Match): boolean {
  const states = (value(m, '--ctstate') ?? value(m, '--state'))?.split(',').sort().join(',');
  return (m.name === 'conntrack' || m.name === 'state') && m.options.length === 1 && states === 'ESTABLISHED,RELATED';
}

/** libvirt's plain `--jump REJECT`, which iptables prints with its default reply. */
function isDefaultReject(rule: Rule): boolean {
  const options = rule.target!.options;
  if (options.length === 0) return true;
  const reply = targetValue(rule, '--reject-with');
  return options.length === 1 && (reply === 'icmp-port-unreachable' || reply === 'icmp6-port-unreachable');
}

function target(rule: Rule, name: string): boolean {
  return rule.target?.name === name && !rule.target.goto;
}

function targetValue(rule: Rule, option: string): string | undefined {
  const o = rule.target?.options.find((x) => x.name === option);
  return o?.args.map((a) => a.value).join(' ');
}

const hostOnly = (c: Cidr): string =>
  c.prefix === (c.family === 4 ? 32 : 128) ? formatCidr(c).replace(/\/\d+$/, '') : formatCidr(c);

/**
 * Every chain a rule of libvirt's or Xen's can be in: the roles' chains and the built-in chains libvirt's set-up
 * jumps from (Xen's rules are in FORWARD and POSTROUTING). A rule in any other chain (a host's own, Docker's) is
 * none of theirs, whatever it says: most rules of a big host are told apart here.
 */
const CLASSIFIED_CHAINS: ReadonlySet<string> = new Set([
  ...Object.values(ROLE_CHAINS).flat(),
  ...LIBVIRT_HOOKS.map((h) => h.parent),
]);

/** What libvirt or Xen rule this is, or null for rules neither installs. */
export function classifyRule(rule: Rule, family: Family): Classified | null {
  if (!CLASSIFIED_CHAINS.has(rule.chain)) return null;
  return classifySetup(rule) ?? classifyLibvirt(rule, family) ?? classifyXen(rule);
}

function classifySetup(rule: Rule): Classified | null {
  const hook = LIBVIRT_HOOKS.find(
    (h) => h.table === rule.table && h.parent === rule.chain && rule.target?.name === h.child,
  );
  if (!hook || !only(rule) || rule.matches.length > 0 || rule.target!.goto || rule.target!.options.length > 0)
    return null;
  return {
    purpose: 'chain-setup',
    context: { table: hook.table, chain: hook.child, parent: hook.parent },
    bridge: null,
    subnet: null,
    vif: null,
  };
}

function classifyLibvirt(rule: Rule, family: Family): Classified | null {
  const { chain } = rule;
  const inIf = plainIface(rule.inInterface);
  const outIf = plainIface(rule.outInterface);
  const result = (
    purpose: Purpose,
    bridge: string | null,
    extra: Partial<WhyContext> = {},
    subnet: Cidr | null = null,
  ): Classified => ({
    purpose,
    context: { ...(bridge ? { bridge } : {}), ...(subnet ? { subnet: formatCidr(subnet) } : {}), ...extra },
    bridge,
    subnet,
    vif: null,
  });

  if (rule.table === 'filter') {
    // guest → host services, host → guest services
    const port = destinationPortOnly(rule);
    if (port && target(rule, 'ACCEPT') && !rule.source && !rule.destination) {
      const service = SERVICE_PORTS[port];
      if (in_(chain, 'input') && inIf && !rule.outInterface && service?.in) return result(service.in, inIf);
      if (in_(chain, 'output') && outIf && !rule.inInterface && service?.out) return result(service.out, outIf);
    }
    if (rule.matches.length === 0 && target(rule, 'REJECT') && isDefaultReject(rule)) {
      if (in_(chain, 'forwardOut') && inIf && only(rule, 'inInterface')) return result('reject-out', inIf);
      if (in_(chain, 'forwardIn') && outIf && only(rule, 'outInterface')) return result('reject-in', outIf);
    }
    if (
      target(rule, 'ACCEPT') &&
      inIf &&
      outIf &&
      inIf === outIf &&
      only(rule, 'inInterface', 'outInterface') &&
      rule.matches.length === 0 &&
      in_(chain, 'forwardCross')
    ) {
      return result('cross-bridge', inIf);
    }
    // forwarding of a subnet: out of the bridge (FWO), back in (FWI)
    if (target(rule, 'ACCEPT') && !rule.protocol && !rule.fragment) {
      const src = rule.source && !rule.source.negated ? rule.source : null;
      const dst = rule.destination && !rule.destination.negated ? rule.destination : null;
      if (
        in_(chain, 'forwardOut') &&
        src &&
        !rule.destination &&
        inIf &&
        rule.matches.length === 0 &&
        (!rule.outInterface || outIf)
      ) {
        return result('forward-out', inIf, { dev: outIf }, src);
      }
      if (in_(chain, 'forwardIn') && dst && !rule.source && outIf && (!rule.inInterface || inIf)) {
        if (rule.matches.length === 0) return result('forward-in', outIf, { dev: inIf }, dst);
        if (rule.matches.length === 1 && isReplies(rule.matches[0]!))
          return result('related-in', outIf, { dev: inIf }, dst);
      }
    }
    return null;
  }

  if (rule.table === 'nat' && in_(chain, 'postrouting') && !rule.inInterface && !rule.fragment) {
    const src = rule.source && !rule.source.negated ? rule.source : null;
    if (!src || rule.matches.length > 0 || (rule.outInterface && rule.outInterface.negated)) return null;
    const dev = outIf;
    const notLocal = rule.destination?.negated === true && formatCidr(rule.destination) === formatCidr(src);
    const proto = rule.protocol && !rule.protocol.negated ? rule.protocol.name : null;
    if (notLocal && (proto === null || proto === 'tcp' || proto === 'udp')) {
      if (target(rule, 'MASQUERADE')) {
        const ports = targetValue(rule, '--to-ports');
        if (proto && ports) return result('masquerade-ports', null, { dev, protocol: proto, ports }, src);
        if (!proto && rule.target!.options.length === 0) return result('masquerade', null, { dev }, src);
      }
      if (target(rule, 'SNAT')) {
        const to = targetValue(rule, '--to-source');
        if (to && proto) {
          const [address, ports] = splitPorts(to);
          if (ports) return result('snat-ports', null, { dev, protocol: proto, ports, to: address }, src);
        }
        if (to && !proto) return result('snat', null, { dev, to }, src);
      }
    }
    if (target(rule, 'RETURN') && rule.destination && !rule.destination.negated && !rule.protocol) {
      const destination = formatCidr(rule.destination);
      if (family === 'ipv4' && destination === '255.255.255.255/32')
        return result('no-masquerade-broadcast', null, { dev, destination }, src);
      if (destination === '224.0.0.0/24' || destination === 'ff02::/16')
        return result('no-masquerade-multicast', null, { dev, destination }, src);
    }
    return null;
  }

  if (
    rule.table === 'mangle' &&
    in_(chain, 'postrouting') &&
    target(rule, 'CHECKSUM') &&
    outIf &&
    only(rule, 'outInterface', 'protocol') &&
    destinationPortOnly(rule) === '68'
  ) {
    return result('checksum', outIf);
  }
  return null;
}

/** `A[-B]:P1-P2` (IPv4) or `[A[-B]]:P1-P2` (IPv6) into address range and ports. */
function splitPorts(to: string): [string, string | null] {
  if (to.startsWith('[')) {
    const close = to.indexOf(']');
    const ports = to.slice(close + 1);
    return [to.slice(1, close), ports.startsWith(':') ? ports.slice(1) : null];
  }
  const colon = to.indexOf(':');
  if (colon < 0 || !to.includes('.')) return [to, null];
  return [to.slice(0, colon), to.slice(colon + 1)];
}

function classifyXen(rule: Rule): Classified | null {
  if (
    rule.table === 'nat' &&
    rule.chain === 'POSTROUTING' &&
    target(rule, 'MASQUERADE') &&
    only(rule, 'outInterface') &&
    plainIface(rule.outInterface) &&
    rule.matches.length === 0 &&
    rule.target!.options.length === 0
  ) {
    const netdev = rule.outInterface!.name;
    return { purpose: 'xen-masquerade', context: { netdev }, bridge: netdev, subnet: null, vif: null };
  }
  if (
    rule.table !== 'filter' ||
    rule.chain !== 'FORWARD' ||
    !target(rule, 'ACCEPT') ||
    rule.inInterface ||
    rule.outInterface ||
    rule.destination
  )
    return null;
  const physdev = rule.matches.find((m) => m.name === 'physdev');
  if (!physdev) return null;
  const others = rule.matches.filter((m) => m !== physdev);
  const inPort = value(physdev, '--physdev-in');
  const outPort = value(physdev, '--physdev-out');
  const known = physdev.options.every(
    (o) => !o.negated && ['--physdev-in', '--physdev-out', '--physdev-is-bridged'].includes(o.name),
  );
  if (!known || (inPort && outPort)) return null;
  return matchOn({ inPort, outPort, others, src: rule.source, proto: rule.protocol?.name ?? null })
    .with({ outPort: P.string, src: null, proto: null }, ({ outPort: vif, others: rest }) => {
      if (rest.length > 1 || (rest.length === 1 && !isReplies(rest[0]!))) return null;
      return {
        purpose: 'xen-vif-out' as const,
        context: { vif, stateful: rest.length === 1 },
        bridge: null,
        subnet: null,
        vif,
      };
    })
    .with({ inPort: P.string, proto: 'udp' }, ({ inPort: vif, others: rest, src }) => {
      const udp = rest[0];
      if (
        src ||
        rest.length !== 1 ||
        udp?.name !== 'udp' ||
        value(udp, '--sport') !== '68' ||
        value(udp, '--dport') !== '67' ||
        udp.options.length !== 2
      )
        return null;
      return { purpose: 'xen-vif-dhcp' as const, context: { vif }, bridge: null, subnet: null, vif };
    })
    .with({ inPort: P.string, proto: null }, ({ inPort: port, others: rest, src }) => {
      if (rest.length > 0 || (src && src.negated)) return null;
      if (/^p[a-z]+\d*$/.test(port) && !src)
        return { purpose: 'xen-antispoof' as const, context: { netdev: port }, bridge: null, subnet: null, vif: null };
      if (port === 'vif0.0' && !src)
        return {
          purpose: 'xen-antispoof-dom0' as const,
          context: { vif: port },
          bridge: null,
          subnet: null,
          vif: port,
        };
      return {
        purpose: 'xen-vif-in' as const,
        context: { vif: port, ...(src ? { address: hostOnly(src) } : {}) },
        bridge: null,
        subnet: src,
        vif: port,
      };
    })
    .otherwise(() => null);
}
