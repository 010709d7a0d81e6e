// The audit's vocabulary: the findings checks report, with places people can open (the Check
// itself sits beside the AuditContext it runs over, in context.ts).

import type { Family } from '../model/dump.js';

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
  /** The IP family a reachability finding was traced in (absent: the finding is not about one family). */
  readonly family?: Family;
}

/** A finding of `check`, with its default severity unless given. */
export function finding(
  check: { readonly id: string; readonly severity: Severity },
  f: Omit<Finding, 'id' | 'severity' | 'related'> & { severity?: Severity; related?: readonly RelatedLocation[] },
): Finding {
  return {
    id: check.id,
    severity: f.severity ?? check.severity,
    network: f.network,
    message: f.message,
    fix: f.fix,
    location: f.location,
    related: f.related ?? [],
    ...(f.family ? { family: f.family } : {}),
  };
}

/**
 * A check's words (ESLint's `messages`): every message and fix it reports, as templates whose
 * `{{name}}` placeholders the finding's data fills. A check's advice is reviewed in one table.
 */
export type Templates<K extends string = string> = Readonly<Record<K, string>>;

type Data = Readonly<Record<string, string | number>>;

/** A template with its placeholders filled; a placeholder without data is the check's bug, said loudly. */
export function fill(template: string, data: Data): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => {
    const value = data[name];
    if (value === undefined) throw new Error(`template placeholder {{${name}}} has no data: ${template}`);
    return String(value);
  });
}

/** A finding of `check` from its templates: `message` and `fix` name them, `data` fills both. */
export function report<K extends string>(
  check: { readonly id: string; readonly severity: Severity; readonly messages: Templates<K> },
  f: Omit<Finding, 'id' | 'severity' | 'related' | 'message' | 'fix'> & {
    message: K;
    fix: K;
    data?: Data;
    severity?: Severity;
    related?: readonly RelatedLocation[];
  },
): Finding {
  const data = f.data ?? {};
  return finding(check, {
    ...f,
    message: fill(check.messages[f.message], data),
    fix: fill(check.messages[f.fix], data),
  });
}
