// What a rule's verdict depends on beyond the packet: state the kernel keeps (recent lists, rate
// meters, counters, set contents, connection history, the clock) or a match virtables cannot
// evaluate. explain marks such rules; trace follows both ways wherever they are met.

import type { IpFamily } from '../model/cidr.js';
import type { Match, Rule } from '../model/dump.js';
import { compileMatch } from './matches.js';

const arg = (m: Match, name: string): string | null => m.options.find((o) => o.name === name)?.args[0]?.value ?? null;

/** Why one match depends on state, or null when the packet alone decides it. */
function matchState(m: Match, family: IpFamily): string | null {
  switch (m.name) {
    case 'recent':
      return `-m recent: what list ${arg(m, '--name') ?? 'DEFAULT'} held before the packet`;
    case 'limit':
      return '-m limit: the rate of the matching packets before it';
    case 'hashlimit':
      return `-m hashlimit: the rate of the matching packets before it (per ${arg(m, '--hashlimit-mode') ?? 'rule'})`;
    case 'connlimit':
      return '-m connlimit: the connections open at the time';
    case 'quota':
      return '-m quota: the bytes counted so far';
    case 'statistic':
      return arg(m, '--mode') === 'nth'
        ? '-m statistic --mode nth: the packets counted so far'
        : '-m statistic: chance';
    case 'time':
      return '-m time: the time of day';
    case 'connbytes':
      return '-m connbytes: the bytes or packets of the connection so far';
    case 'set':
      return `-m set: the members of set ${m.options.find((o) => o.name === '--match-set')?.args[0]?.value ?? '?'} (ipset contents)`;
    case 'conntrack':
      if (m.options.some((o) => o.name === '--ctstatus' || o.name === '--ctexpire'))
        return "-m conntrack --ctstatus/--ctexpire: the connection's history";
      break;
  }
  const c = compileMatch(m, family);
  return c.kind === 'unknown' ? `${c.why}` : null;
}

/** Everything a rule's matches depend on beyond the packet, in order; empty: the packet decides it. */
export function stateDependence(rule: Rule, family: IpFamily): string[] {
  return rule.matches.flatMap((m) => matchState(m, family) ?? []);
}
