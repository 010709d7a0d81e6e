// `parse --format save` reads a dump into a sink (src/write/save.ts PrintedRules) instead of the
// model: what it prints must be what the model prints, on every iptables dump of both corpora, and
// the checks COMMIT makes (kept aside without the model) must refuse and note the same things.

import { describe, expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import type { Dump } from '../../src/model/dump.js';
import { canonicalRuleText, formatDump, formatRule, PrintedRules, writeDump } from '../../src/write/save.js';
import { describeCorpus } from '../helpers/env.js';
import { iptablesDumpsOfCorpora } from '../helpers/files.js';

function printedThroughSink(text: string, file: string): string {
  const printed = new PrintedRules();
  const dump = parseSave(text, { file, sink: printed });
  let out = '';
  writeDump(dump, (chunk) => (out += chunk), { printed });
  return out;
}

/** The model's answer and the sink's: the same text, or the same error. */
function both(text: string, file = 'x.save'): { model: string; sink: string } {
  const read = (f: () => string): string => {
    try {
      return f();
    } catch (e) {
      return `error: ${(e as Error).message}`;
    }
  };
  return { model: read(() => formatDump(parseSave(text, { file }))), sink: read(() => printedThroughSink(text, file)) };
}

/** Each rule whose canonicalRuleText is not formatRule's text, with both (none, when they agree). */
function canonicalDisagreements(dump: Dump): string[] {
  const family = dump.family ?? 'ipv4';
  const out: string[] = [];
  for (const table of dump.tables)
    for (const chain of table.chains)
      for (const rule of chain.rules) {
        const formatted = formatRule(rule, family);
        const canonical = canonicalRuleText(rule, family);
        if (canonical !== formatted) out.push(`line ${rule.line}: ${canonical} | ${formatted}`);
      }
  return out;
}

describe('the print sink', () => {
  it('prints what the model prints: rules before a chain is declared, -s a,b, respaced and rewritten rules', () => {
    const text = [
      '*filter',
      '-A INPUT -s 10.0.0.1 -j ACCEPT',
      ':INPUT DROP [0:0]',
      ':FOO - [0:0]',
      '-A INPUT -j FOO',
      '-A FOO -d 10.0.0.0/8 -j RETURN',
      '-A FOO   -p tcp --dport 22 -j ACCEPT',
      '-A FOO -p tcp -m tcp --dport 23 -j ACCEPT',
      '',
      '-A FOO -p tcp -m tcp --dport 24 -j ACCEPT',
      'COMMIT',
      '*nat',
      '-A POSTROUTING -s 10.0.0.0/24,10.1.0.0/24 -j MASQUERADE',
      'COMMIT',
      '',
    ].join('\n');
    const { model, sink } = both(text);
    expect(model).toContain('-A FOO -p tcp -m tcp --dport 22 -j ACCEPT\n-A FOO -p tcp -m tcp --dport 23');
    expect(sink).toBe(model);
  });

  it("gives formatRule's text as canonicalRuleText: the rule's own where it reads so, the rule formatted elsewhere", () => {
    const text = [
      '*filter',
      '-A INPUT -p tcp -m tcp --dport 23 -j ACCEPT',
      '-A INPUT   -p tcp --dport 22 -j ACCEPT',
      '-A INPUT -s 10.0.0.5/24 -j ACCEPT',
      '-A INPUT -s 10.0.0.0/24 -j ACCEPT -m comment --comment "after the target"',
      '-A INPUT -p tcp -m tcp --dport 24 -j ACCEPT ',
      '-I INPUT 1 -j DROP',
      'COMMIT',
      '',
    ].join('\n');
    const dump = parseSave(text, { file: 'x.save' });
    const rules = dump.tables[0]!.chains.find((c) => c.name === 'INPUT')!.rules;
    expect(rules.map((r) => canonicalRuleText(r))).toEqual([
      '-A INPUT -j DROP',
      '-A INPUT -p tcp -m tcp --dport 23 -j ACCEPT',
      '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT',
      '-A INPUT -s 10.0.0.0/24 -j ACCEPT',
      '-A INPUT -s 10.0.0.0/24 -m comment --comment "after the target" -j ACCEPT',
      '-A INPUT -p tcp -m tcp --dport 24 -j ACCEPT',
    ]);
    expect(canonicalDisagreements(dump)).toEqual([]);
  });

  it('reads a dump with -I again whole (the place of an inserted rule counts the rules)', () => {
    const text = '*filter\n-A INPUT -p tcp -j ACCEPT\n-I INPUT 1 -p udp -j DROP\n-I INPUT 4 -j DROP\nCOMMIT\n';
    const ok = '*filter\n-A INPUT -p tcp -j ACCEPT\n-I INPUT 1 -p udp -j DROP\n-I INPUT 2 -j DROP\nCOMMIT\n';
    expect(both(ok).sink).toBe(both(ok).model);
    expect(both(ok).sink).toMatch(/-A INPUT -p udp -j DROP\n-A INPUT -j DROP\n-A INPUT -p tcp -j ACCEPT\n/);
    expect(both(text).model).toMatch(/^error: x.save:4:.*cannot insert at position 4/);
    expect(both(text).sink).toBe(both(text).model);
  });

  it('refuses what COMMIT refuses, at the same place: jumps to undeclared chains, loops, -g to a verdict', () => {
    for (const text of [
      '*filter\n:A - [0:0]\n-A INPUT -j A\n-A A -j B\nCOMMIT\n',
      '*filter\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n-A B -p tcp -j A\nCOMMIT\n',
      '*filter\n-A INPUT -g ACCEPT\nCOMMIT\n',
      '*filter\n-A INPUT -j INPUT\nCOMMIT\n',
    ]) {
      const { model, sink } = both(text);
      expect(model).toMatch(/^error: x.save:\d+:\d+: /);
      expect(sink).toBe(model);
    }
  });
});

describeCorpus('the print sink on every iptables dump of both corpora', () => {
  it('prints each as the model does (or refuses it alike)', () => {
    let dumps = 0;
    for (const { file, text } of iptablesDumpsOfCorpora()) {
      dumps++;
      const { model, sink } = both(text, file);
      expect(sink, file).toBe(model);
      if (!model.startsWith('error: ')) expect(canonicalDisagreements(parseSave(text, { file })), file).toEqual([]);
    }
    expect(dumps).toBeGreaterThan(100);
  });
});
