// The audit's vocabulary: a check (ESLint-style: stable id, severity, one-line summary, its
// doc, a run over the context) and the findings it reports, with places people can open.

import type { AuditContext } from './context.js';

export type Severity = 'error' | 'warning' | 'info';

export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info'];

/** Higher is worse; `--fail-on` compares against it. */
export function severityRank(s: Severity): number {
  return s === 'error' ? 3 : s === 'warning' ? 2 : 1;
}

/** A place in a dump or a network definition. */
export interface Location {
  readonly file: string;
  readonly line: number;
  readonly col?: number;
  /** The line's text as read (a dump rule), for people. */
  readonly text?: string;
  /** Place in an nft listing, the same whether it was read as text or JSON (findings sort by it). */
  readonly order?: number;
}

export interface RelatedLocation extends Location {
  /** What this place has to do with the finding ("decides first", "another copy"). */
  readonly message: string;
}

export interface Finding {
  readonly id: string;
  readonly severity: Severity;
  /** The network the finding is about; null for the host as a whole. */
  readonly network: string | null;
  readonly message: string;
  /** What to change: the libvirt XML edit or the iptables command. */
  readonly fix: string;
  /** The rule line the finding is about, or the network definition when no rule is. */
  readonly location: Location | null;
  readonly related: readonly RelatedLocation[];
}

export interface Check {
  readonly id: string;
  /** The severity its findings have unless the finding says otherwise. */
  readonly severity: Severity;
  readonly summary: string;
  /** The check's documentation, relative to the package root. */
  readonly docs: string;
  readonly run: (context: AuditContext) => Finding[];
}

/** A finding of `check`, with its default severity unless given. */
export function finding(check: Pick<Check, 'id' | 'severity'>, f: Omit<Finding, 'id' | 'severity' | 'related'> & { severity?: Severity; related?: readonly RelatedLocation[] }): Finding {
  return { id: check.id, severity: f.severity ?? check.severity, network: f.network, message: f.message, fix: f.fix, location: f.location, related: f.related ?? [] };
}
