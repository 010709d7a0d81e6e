// A compiled network set-up as a program: the commands the real software runs, in the order
// it runs them, each with its argv, what it does to the firewall, and why. Writers print it
// (args, shell, json); apply.ts runs it against a dump.

import type { Family, Rule } from '../model/dump.js';
import type { Purpose } from './why.js';

/** Which software (and era) derives the rules. */
export type Flavor = 'libvirt' | 'libvirt-legacy' | 'libvirt-nft' | 'xen-bridge' | 'xen-nat' | 'xen-route';

export const FLAVORS: readonly Flavor[] = [
  'libvirt',
  'libvirt-legacy',
  'libvirt-nft',
  'xen-bridge',
  'xen-nat',
  'xen-route',
];

/** nftables address family of a table (libvirt uses `ip` and `ip6`). */
export type NftFamily = 'ip' | 'ip6';

/** What a command does to the firewall state when it runs. */
export type Effect =
  /** Reads only (`--list-rules`, `-L -n`, `nft list table`, `tc qdisc show`) or acts outside netfilter (`tc`). */
  | { readonly kind: 'none' }
  | { readonly kind: 'new-chain'; readonly family: Family; readonly table: string; readonly chain: string }
  /** `--insert CHAIN [N]`: the rule becomes rule number `position` (1 = top). */
  | {
      readonly kind: 'insert';
      readonly family: Family;
      readonly table: string;
      readonly chain: string;
      readonly position: number;
      readonly rule: Rule;
    }
  | {
      readonly kind: 'append';
      readonly family: Family;
      readonly table: string;
      readonly chain: string;
      readonly rule: Rule;
    }
  | {
      readonly kind: 'policy';
      readonly family: Family;
      readonly table: string;
      readonly chain: string;
      readonly policy: string;
    }
  | { readonly kind: 'flush'; readonly family: Family; readonly table: string; readonly chain: string }
  /** The real tool refuses this command (exit status 2) and the script carries on; nothing changes. */
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'nft-add-table'; readonly family: NftFamily; readonly table: string }
  | {
      readonly kind: 'nft-add-chain';
      readonly family: NftFamily;
      readonly table: string;
      readonly chain: string;
      readonly spec: string | null;
    }
  /** `nft insert rule FAMILY TABLE CHAIN STATEMENT…` (position 1). */
  | {
      readonly kind: 'nft-insert';
      readonly family: NftFamily;
      readonly table: string;
      readonly chain: string;
      readonly statement: readonly string[];
    };

export interface Command {
  /** Exactly as executed, program name first (`iptables`, `ip6tables`, `nft`, `tc`). */
  readonly argv: readonly string[];
  readonly effect: Effect;
  /** The network whose start ran the command (set-up runs on behalf of the first network). */
  readonly network: string;
  readonly purpose: Purpose;
  readonly why: string;
  /** Part of the one-time private-chain set-up rather than the network's own rules. */
  readonly setup: boolean;
  /** Run in a transaction whose errors are ignored (libvirt's CHECKSUM rule). */
  readonly ignoreErrors: boolean;
}

export interface Program {
  readonly flavor: Flavor;
  /** The software version whose behaviour was modelled, e.g. `libvirt 11.3.0` or `xen 4.4`. */
  readonly era: string;
  /** Networks in start order. */
  readonly networks: readonly string[];
  readonly commands: readonly Command[];
  /** Things the user should know (inputs ignored by this era, behaviour that depends on the host). */
  readonly notes: readonly string[];
}
