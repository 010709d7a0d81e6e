// virtables demo: what `npm start` runs — the bundled seed-lab host (three libvirt networks
// and a port forward) shown through the other commands, so a new user sees the point at once.

import { relative } from 'node:path';
import { match } from 'ts-pattern';
import { packagePath } from '../package.js';
import { parseCommand } from './args.js';
import type { Args } from './spec.js';
import type { Io } from './io.js';
import { styleFor } from './style.js';

export async function run(_args: Args<'demo'>, io: Io): Promise<number> {
  const s = styleFor(io);
  const lab = (f: string): string => relative(process.cwd(), packagePath('corpus', 'seed-lab', f)) || f;
  const nets = ['default.xml', 'host-only.xml', 'natted.xml'].map(lab);
  const netFlags = nets.flatMap((n) => ['--net', n]);
  const steps: Step[] = [
    { title: "The lab host's networks, as their XML defines them", command: 'net', argv: nets },
    {
      title: 'What starting them (and adding a port forward) changed in the firewall',
      command: 'diff',
      argv: [lab('clean-host.save'), lab('lab-host.save'), ...netFlags],
    },
    {
      title: 'What a careful admin would catch (lab queries 4, 5 and 8)',
      command: 'audit',
      argv: [lab('lab-host.save'), ...netFlags, '--fail-on', 'error'],
    },
    {
      title: 'Who reaches whom, packet by packet through the rules (vm1 serves the web on natted)',
      command: 'trace',
      argv: [
        lab('lab-host.save'),
        ...netFlags,
        '--guest',
        'vm1@virbr2=192.168.124.10',
        '--matrix',
        '--services',
        'icmp,tcp/80,udp/53',
      ],
    },
    {
      title: 'Every rule of the host, explained',
      command: 'explain',
      argv: [lab('lab-host.save'), ...netFlags, '--format', 'text'],
    },
  ];
  for (const step of steps) {
    io.stdout(
      `\n${s.bold(s.cyan(`# ${step.title}`))}\n${s.dim(`$ virtables ${step.command} ${step.argv.join(' ')}`)}\n\n`,
    );
    const code = await runStep(step, io);
    if (code === 2) return 2;
  }
  return 0;
}

type Step = { readonly title: string; readonly argv: string[] } & {
  readonly command: 'net' | 'diff' | 'audit' | 'trace' | 'explain';
};

/** One step, run as `virtables COMMAND argv…` runs it (the modules are loaded here, not through main: no circle). */
async function runStep(step: Step, io: Io): Promise<number> {
  return match(step.command)
    .with('net', async () => (await import('./net.js')).run(parseCommand('net', step.argv), io))
    .with('diff', async () => (await import('./diff.js')).run(parseCommand('diff', step.argv), io))
    .with('audit', async () => (await import('./audit.js')).run(parseCommand('audit', step.argv), io))
    .with('trace', async () => (await import('./trace.js')).run(parseCommand('trace', step.argv), io))
    .with('explain', async () => (await import('./explain.js')).run(parseCommand('explain', step.argv), io))
    .exhaustive();
}
