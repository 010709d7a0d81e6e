// Real runs of Xen's network and hotplug scripts (../shared/corpus/xen/captures, releases
// 3.0.0 … HEAD): compiling each scenario's inputs (corpus/xen/CAPTURE/STEP.xen) with the
// matching --xen-version gives the captured iptables-save of that step, and the commands are
// the captured argv, in order.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { formatDump } from '../../src/write/save.js';
import { runCli } from '../helpers/cli.js';
import { describeCorpus, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';

const CAPTURES = join(SHARED_CORPUS, 'xen', 'captures');
const INPUTS = join(REPO_CORPUS, 'xen');

/** The Xen release each capture ran (captures/XEN-REVISIONS; HEAD is 4.23-dev). */
function xenVersionOf(capture: string): string {
  const m = /-(\d+\.\d+(?:\.\d+)?)$/.exec(capture);
  if (m) return m[1]!;
  if (capture.startsWith('head-')) return '4.23';
  throw new Error(`no Xen release known for capture ${capture}`);
}

function flavorOf(setup: string): string {
  const mode = /^network\s+(\w+)/m.exec(setup)?.[1];
  return `xen-${mode}`;
}

/** argv lines run before `# [step]` in iptables-commands.log, with the logger's `\,` and `\ ` escapes undone. */
function loggedBefore(log: string, step: string): string[][] {
  const commands: string[][] = [];
  for (const line of log.split('\n')) {
    if (line === `# [${step}]`) return commands;
    if (line.startsWith('#') || line.trim() === '') continue;
    const text = line.replace(/\s+# rc=\d+$/, '');
    const words = text.match(/(?:\\.|[^\s\\])+/g) ?? [];
    commands.push(words.map((w) => w.replace(/\\(.)/g, '$1')));
  }
  throw new Error(`no '# [${step}]' marker in the log`);
}

const canonical = (text: string, file: string): string => formatDump(parseSave(text, { file }));

interface Scenario {
  readonly capture: string;
  readonly step: string;
  readonly input: string;
}

function scenarios(): Scenario[] {
  if (!existsSync(INPUTS)) return [];
  return readdirSync(INPUTS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(join(INPUTS, d.name))
        .filter((f) => f.endsWith('.xen'))
        .map((f) => ({ capture: d.name, step: f.slice(0, -4), input: join(INPUTS, d.name, f) })),
    )
    .sort((a, b) => `${a.capture}/${a.step}`.localeCompare(`${b.capture}/${b.step}`));
}

describeCorpus('Xen script captures', async () => {
  const saves: Array<{ name: string; got: string; want: string }> = [];
  const argvs: Array<{ name: string; got: string[][]; want: string[][] }> = [];
  for (const s of scenarios()) {
    const dir = join(CAPTURES, s.capture);
    const flags = ['--flavor', flavorOf(read(s.input)), '--xen-version', xenVersionOf(s.capture)];
    const save = await runCli(['compile', s.input, ...flags]);
    saves.push({
      name: `${s.capture}/${s.step}`,
      got: save.code === 0 ? save.stdout : save.stderr,
      want: canonical(read(join(dir, `${s.step}.save`)), `${s.step}.save`),
    });
    const json = await runCli(['compile', s.input, ...flags, '--format', 'json']);
    const compiled = (JSON.parse(json.stdout) as { commands: Array<{ argv: string[] }> }).commands.map((c) => c.argv);
    argvs.push({
      name: `${s.capture}/${s.step}`,
      got: compiled,
      want: loggedBefore(read(join(dir, 'iptables-commands.log')), s.step),
    });
  }

  it(`${saves.filter((o) => o.got === o.want).length}/${saves.length} capture steps: compile STEP.xen == STEP.save`, () => {
    expect(saves.length).toBeGreaterThan(0);
    for (const o of saves) expect(o.got, o.name).toBe(o.want);
  });

  it(`${argvs.filter((o) => JSON.stringify(o.got) === JSON.stringify(o.want)).length}/${argvs.length} capture steps: the commands are the logged argv`, () => {
    for (const o of argvs) expect(o.got, o.name).toEqual(o.want);
  });

  // The same scenarios from the host's xend-config.sxp and the guests' domU configurations.
  const fromConfigs: Array<{ capture: string; step: string; argv: string[] }> = [
    {
      capture: 'head-vif-bridge-ip',
      step: 'online-vif1.0-vif2.0',
      argv: ['xend-config-bridge.sxp', 'domains/web.cfg', 'domains/db.cfg', '--flavor', 'xen-bridge'],
    },
    {
      capture: 'head-vif-nat',
      step: 'online',
      argv: ['xend-config-nat.sxp', 'domains/nat-guest.cfg', '--domids', '3', '--flavor', 'xen-nat'],
    },
    {
      capture: 'head-vif-route',
      step: 'online',
      argv: ['xend-config-route.sxp', 'domains/routed.cfg', '--domids', '4', '--flavor', 'xen-route'],
    },
    { capture: 'network-nat-4.4', step: 'start', argv: ['xend-config-nat.sxp', '--flavor', 'xen-nat'] },
  ];
  const configOutcomes: Array<{ name: string; got: string; want: string }> = [];
  for (const c of fromConfigs) {
    const argv = c.argv.map((a) => (/\.(sxp|cfg)$/.test(a) ? join(INPUTS, a) : a));
    const r = await runCli(['compile', ...argv, '--xen-version', xenVersionOf(c.capture)]);
    configOutcomes.push({
      name: `${c.capture}/${c.step}`,
      got: r.code === 0 ? r.stdout : r.stderr,
      want: canonical(read(join(CAPTURES, c.capture, `${c.step}.save`)), c.step),
    });
  }
  it(`${configOutcomes.filter((o) => o.got === o.want).length}/${configOutcomes.length} capture steps from xend-config.sxp + domU configs`, () => {
    for (const o of configOutcomes) expect(o.got, o.name).toBe(o.want);
  });

  it('every capture with a Xen script run has its inputs here', () => {
    const captured = readdirSync(CAPTURES, { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== 'xenserver-style-portforward')
      .map((d) => d.name);
    const covered = new Set(scenarios().map((s) => s.capture));
    expect(captured.filter((c) => !covered.has(c))).toEqual([]);
  });
});
