// What each simulated network's guests actually get, against what its mode promises: leaving
// (nat/route), replies coming back, DNS from the host (every mode with rules), routed
// connections in (route). Traffic the mode promises but the rules stop is "blocked", and the
// rule (or policy) that stopped it is named, with the software that owns it.

import type { Owner } from '../explain/attribute.js';
import type { Purpose } from '../engine/why.js';
import type { Rule } from '../model/dump.js';
import type { NftRule } from '../model/nft.js';
import type { AuditContext } from './context.js';
import type { Subject } from './probes.js';
import type { CompiledRule } from '../sim/ruleset.js';
import type { Step } from '../sim/traverse.js';
import type { Leg } from '../sim/trace.js';

export type ProbeKind = 'out' | 'reply' | 'dns' | 'dhcp' | 'in';

export interface Blocked {
  readonly subject: Subject;
  readonly probe: ProbeKind;
  /** "guests of … starting connections to the outside", for messages. */
  readonly what: string;
  /** libvirt's rule that should have decided (present in the dump), when there is one. */
  readonly expected: Rule | null;
  /** The same in libvirt's nft table (`table ip libvirt_network`), when there is one. */
  readonly expectedNft: NftRule | null;
  readonly expectedPurpose: Purpose;
  readonly step: Step;
  /** The deciding iptables rule; null when a chain's policy or an nft rule decided. */
  readonly rule: Rule | null;
  /** The deciding rule as the simulator ran it (iptables or nft); null when a policy decided. */
  readonly compiled: CompiledRule | null;
  /** Who owns the deciding rule or policy. */
  readonly owner: Owner;
  readonly verdict: 'dropped' | 'rejected';
}

const DOCKER_CHAIN = /^DOCKER(-|$)/;
const UFW_CHAIN = /^ufw6?-/;

/** Whether each manager is present, per context: asked once per packet a policy decides. */
const presence = new WeakMap<AuditContext, Map<'docker' | 'ufw' | 'firewalld', boolean>>();

export function present(ctx: AuditContext, owner: 'docker' | 'ufw' | 'firewalld'): boolean {
  let known = presence.get(ctx);
  if (!known) presence.set(ctx, (known = new Map()));
  let is = known.get(owner);
  if (is === undefined) known.set(owner, (is = presentUncached(ctx, owner)));
  return is;
}

function presentUncached(ctx: AuditContext, owner: 'docker' | 'ufw' | 'firewalld'): boolean {
  if (ctx.explained.some((e) => e.owner === owner)) return true;
  const test =
    owner === 'docker'
      ? (n: string) => DOCKER_CHAIN.test(n)
      : owner === 'ufw'
        ? (n: string) => UFW_CHAIN.test(n)
        : (n: string) => /_(direct|ZONES|ZONES_SOURCE)$/.test(n);
  if (ctx.dumps.some((d) => d.tables.some((t) => t.chains.some((c) => test(c.name))))) return true;
  // In nft's listing: iptables-nft's tables with the same chain names, or the manager's own nft table.
  const own = owner === 'docker' ? 'docker-bridges' : owner === 'firewalld' ? 'firewalld' : null;
  return (ctx.nft?.tables ?? []).some((t) => t.name === own || t.chains.some((c) => test(c.name)));
}

/** Who set a built-in chain's DROP policy: Docker sets FORWARD's, ufw sets INPUT's and FORWARD's. */
function policyOwner(ctx: AuditContext, chain: string): Owner {
  if (chain === 'FORWARD' && present(ctx, 'docker')) return 'docker';
  if ((chain === 'FORWARD' || chain === 'INPUT') && present(ctx, 'ufw')) return 'ufw';
  return 'host';
}

const FIREWALLD_CHAIN =
  /^((INPUT|FORWARD|OUTPUT)_(direct|ZONES|ZONES_SOURCE|IN_ZONES|OUT_ZONES|IN_ZONES_SOURCE|OUT_ZONES_SOURCE)|(IN|FWDI|FWDO|FWD|PRE|POST)_[A-Za-z0-9_-]+)$/;

/**
 * firewalld writes whole built-in chains, ending in its catch-all REJECT: a rule in a built-in chain that jumps into
 * firewalld's is firewalld's.
 */
function ruleOwner(ctx: AuditContext, rule: Rule): Owner {
  const owner = ctx.explainedRule(rule)?.owner ?? 'host';
  if (owner !== 'host') return owner;
  const chain = ctx.dumps
    .flatMap((d) => d.tables)
    .find((t) => t.name === rule.table)
    ?.chains.find((c) => c.name === rule.chain);
  if (chain?.builtin && chain.rules.some((r) => r.target && FIREWALLD_CHAIN.test(r.target.name))) return 'firewalld';
  return owner;
}

const cache = new WeakMap<AuditContext, { blocked: Blocked[]; undecided: Undecided[] }>();

type Base = Omit<Blocked, 'step' | 'rule' | 'compiled' | 'owner' | 'verdict'>;

function blockedLeg(ctx: AuditContext, leg: Leg | null, base: Base, undecided: Undecided[]): Blocked | null {
  if (leg?.verdict === 'unknown') {
    undecided.push({ ...base, reason: leg.reason, owner: ownerOfReason(leg.reason) });
    return null;
  }
  if (!leg || (leg.verdict !== 'dropped' && leg.verdict !== 'rejected') || !leg.decidedBy) return null;
  const step = leg.decidedBy;
  const rule = step.rule?.rule ?? null;
  const owner: Owner = rule ? ruleOwner(ctx, rule) : (nftStepOwner(ctx, step) ?? policyOwner(ctx, step.chain));
  return { ...base, step, rule, compiled: step.rule, owner, verdict: leg.verdict };
}

/** Who owns an nft table (the simulator names them `FAMILY NAME`); null for an iptables table. */
export function nftTableOwner(table: string): Owner | null {
  const space = table.indexOf(' ');
  if (space < 0) return null;
  const name = table.slice(space + 1);
  if (name === 'libvirt_network' || name === 'libvirt') return 'libvirt';
  if (name === 'firewalld' || name === 'firewalld_policy_drop') return 'firewalld';
  if (name === 'docker-bridges') return 'docker';
  return 'host';
}

/**
 * Who owns what an nft step took: by its table, and in a table iptables-nft manages (nft lists it
 * as `ip filter`) by its chain, as for iptables (DOCKER-USER, ufw-before-input, the policies).
 */
function nftStepOwner(ctx: AuditContext, step: Step): Owner | null {
  const byTable = nftTableOwner(step.table);
  if (byTable !== 'host') return byTable;
  if (DOCKER_CHAIN.test(step.chain)) return 'docker';
  if (UFW_CHAIN.test(step.chain)) return 'ufw';
  return step.rule === null ? policyOwner(ctx, step.chain) : 'host';
}

/** Traffic a network's mode promises whose fate the simulator could not decide, and why. */
export interface Undecided extends Base {
  readonly reason: string;
  /** Whose table the undecided rule is in, when the reason names one (`rule 12 (inet firewalld filter_INPUT)`). */
  readonly owner: Owner | null;
}

function ownerOfReason(reason: string): Owner | null {
  const m = /\((ip6?|inet|arp|bridge|netdev) (\S+) ([^\s:)]+)[:)]/.exec(reason);
  if (!m) return null;
  return nftTableOwner(`${m[1]} ${m[2]}`) === 'host'
    ? DOCKER_CHAIN.test(m[3]!)
      ? 'docker'
      : UFW_CHAIN.test(m[3]!)
        ? 'ufw'
        : 'host'
    : nftTableOwner(`${m[1]} ${m[2]}`);
}

/** Does a rule match packets bridged in from (or out to) a vif? */
function physdevOf(rule: Rule, option: '--physdev-in' | '--physdev-out', vif: string): boolean {
  return rule.matches.some(
    (m) => m.name === 'physdev' && m.options.some((o) => o.name === option && !o.negated && o.args[0]?.value === vif),
  );
}

/** A vif-bridge guest's traffic to the LAN: vif-bridge's accept for its vif is there, but something decides first. */
function xenBridged(ctx: AuditContext, s: Subject, vif: string, undecided: Undecided[]): Blocked | null {
  const mine = ctx.rulesOf(s.network.name).filter((e) => e.owner === 'xen');
  const accept = mine.find((e) => e.purpose === 'xen-vif-in' && physdevOf(e.rule, '--physdev-in', vif))?.rule ?? null;
  if (!accept) return null;
  const r = ctx.probes()!.out(s);
  return blockedLeg(
    ctx,
    r.request,
    {
      subject: s,
      probe: 'out',
      what: `${s.endpoint}'s traffic bridged from ${vif} to the LAN`,
      expected: accept,
      expectedNft: null,
      expectedPurpose: 'xen-vif-in',
    },
    undecided,
  );
}

/** Everything a network's mode promises that its guests do not get. */
export function blockedTraffic(ctx: AuditContext): Blocked[] {
  return outcomesOf(ctx).blocked;
}

/**
 * Traffic a network's mode promises that the simulator could not decide (an nft statement or match it does not
 * evaluate).
 */
export function undecidedTraffic(ctx: AuditContext): Undecided[] {
  return outcomesOf(ctx).undecided;
}

function outcomesOf(ctx: AuditContext): { blocked: Blocked[]; undecided: Undecided[] } {
  const cached = cache.get(ctx);
  if (cached) return cached;
  const out: Blocked[] = [];
  const undecided: Undecided[] = [];
  // Each family's simulated host (IPv4 first): a dual-stack network's IPv6 is judged on ip6tables-save and nft's
  // ip6/inet tables.
  for (const probes of ctx.reachability())
    for (const s of probes.subjects) {
      const mode = ctx.modeOf(s.network);
      if (mode === 'xen-bridge' && s.vif !== null) {
        const b = xenBridged(ctx, s, s.vif, undecided);
        if (b) out.push(b);
        continue;
      }
      if (mode !== 'none' && mode !== 'nat' && mode !== 'route') continue;
      // A network with none of its rules in the dump is rules-not-in-dump's or missing-rule's business.
      const family = s.family === 6 ? 'ipv6' : 'ipv4';
      const mine = ctx
        .rulesOf(s.network.name)
        .filter((e) => e.purpose !== null && e.owner === 'libvirt' && e.family === family);
      const own = (purpose: Purpose, proto?: string): Rule | null =>
        mine.find((e) => e.purpose === purpose && (!proto || e.rule.protocol?.name === proto))?.rule ?? null;
      const nftMine = ctx
        .nftRulesOf(s.network.name)
        .filter((e) => e.owner === 'libvirt' && e.rule.family === (s.family === 6 ? 'ip6' : 'ip'));
      const ownNft = (purpose: Purpose): NftRule | null => nftMine.find((e) => e.purpose === purpose)?.rule ?? null;
      const nftRules = ctx.flavor.flavor === 'libvirt-nft';
      if (mine.length === 0 && !nftRules) continue;
      const who = `guests of ${s.network.name}`;
      const over = s.family === 6 ? ' over IPv6' : '';
      if (mode === 'nat' || mode === 'route') {
        const r = probes.out(s);
        const request = blockedLeg(
          ctx,
          r.request,
          {
            subject: s,
            probe: 'out',
            what: `${who} starting connections to the outside${over}`,
            expected: own('forward-out'),
            expectedNft: ownNft('forward-out'),
            expectedPurpose: 'forward-out',
          },
          undecided,
        );
        if (request) out.push(request);
        // A nat network's IPv6 is routed unless <nat ipv6='yes'/>: its replies come back by libvirt's forward-in
        // accept.
        const routed6 = s.family === 6 && mode === 'nat' && !own('related-in') && !ownNft('related-in');
        const replyPurpose: Purpose = mode === 'nat' && !routed6 ? 'related-in' : 'forward-in';
        const reply = blockedLeg(
          ctx,
          r.reply,
          {
            subject: s,
            probe: 'reply',
            what: `replies coming back to ${who}${over}`,
            expected: own(replyPurpose),
            expectedNft: ownNft(replyPurpose),
            expectedPurpose: replyPurpose,
          },
          undecided,
        );
        if (reply) out.push(reply);
      }
      const def = s.network.definition?.kind === 'libvirt' ? s.network.definition : null;
      // dnsmasq answers DNS unless <dns enable='no'/>, and DHCP where the network has a range or a host.
      if (!def || (def.dns.enable && def.ips.length > 0)) {
        const dns = probes.dns(s);
        const dnsBlocked = blockedLeg(
          ctx,
          dns.request,
          {
            subject: s,
            probe: 'dns',
            what: `DNS queries from ${who} to the host's dnsmasq${over}`,
            expected: own('dns-in', 'udp'),
            expectedNft: ownNft('dns-in'),
            expectedPurpose: 'dns-in',
          },
          undecided,
        );
        if (dnsBlocked) out.push(dnsBlocked);
      }
      // DHCP is probed for IPv4 (DHCPv6 is not simulated).
      if (
        s.family === 4 &&
        def?.ips.some((i) => i.family === 4 && (i.dhcpRanges.length > 0 || i.dhcpHosts.length > 0))
      ) {
        const dhcp = probes.dhcp(s);
        const what = `DHCP requests (udp 67) from ${who} to the host's dnsmasq`;
        const request = blockedLeg(
          ctx,
          dhcp.request,
          {
            subject: s,
            probe: 'dhcp',
            what,
            expected: own('dhcp-in', 'udp'),
            expectedNft: ownNft('dhcp-in'),
            expectedPurpose: 'dhcp-in',
          },
          undecided,
        );
        const answer = blockedLeg(
          ctx,
          dhcp.reply,
          {
            subject: s,
            probe: 'dhcp',
            what: `the host's DHCP answers (udp 68) to ${who}`,
            expected: own('dhcp-out', 'udp'),
            expectedNft: ownNft('dhcp-out'),
            expectedPurpose: 'dhcp-out',
          },
          undecided,
        );
        if (request) out.push(request);
        else if (answer) out.push(answer);
      }
      if (mode === 'route') {
        const r = probes.in(s);
        const inBlocked = blockedLeg(
          ctx,
          r.request,
          {
            subject: s,
            probe: 'in',
            what: `connections from outside to ${who} (routed mode)${over}`,
            expected: own('forward-in'),
            expectedNft: ownNft('forward-in'),
            expectedPurpose: 'forward-in',
          },
          undecided,
        );
        if (inBlocked) out.push(inBlocked);
      }
    }
  const result = { blocked: out, undecided };
  cache.set(ctx, result);
  return result;
}
