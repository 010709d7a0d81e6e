// virtables demo: what `npm start` runs — the bundled seed-lab host (three libvirt networks
// and a port forward) shown through the other commands, so a new user sees the point at once.

import { relative } from 'node:path';
import { packagePath } from '../package.js';
import { parseCommandArgs } from './args.js';
import type { Io } from './io.js';
import { styleFor } from './style.js';

export const help = `Usage: virtables demo

Runs virtables on the bundled example: the Xen/libvirt seed lab host (corpus/seed-lab/),
with its networks default (NAT), host-only and natted started on CentOS 5 era libvirt,
and a port forward to a web server on a guest. Shows each network, what starting them
changed in the firewall, what an audit finds (the lab's DNS leak, the exposed guest, the
networks that reach each other), who reaches whom, and every rule explained.

  -h, --help    this text
`;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs<{ help?: boolean }>('demo', argv, {});
  if (values.help) {
    io.stdout(help);
    return 0;
  }
  const s = styleFor(io);
  const lab = (f: string): string => relative(process.cwd(), packagePath('corpus', 'seed-lab', f)) || f;
  const nets = ['default.xml', 'host-only.xml', 'natted.xml'].map(lab);
  const netFlags = nets.flatMap((n) => ['--net', n]);
  const steps: Array<{ title: string; command: string; argv: string[] }> = [
    { title: 'The lab host\'s networks, as their XML defines them', command: 'net', argv: nets },
    { title: 'What starting them (and adding a port forward) changed in the firewall', command: 'diff', argv: [lab('clean-host.save'), lab('lab-host.save'), ...netFlags] },
    { title: 'What a careful admin would catch (lab queries 4, 5 and 8)', command: 'audit', argv: [lab('lab-host.save'), ...netFlags, '--fail-on', 'error'] },
    {
      title: 'Who reaches whom, packet by packet through the rules (vm1 serves the web on natted)',
      command: 'trace',
      argv: [lab('lab-host.save'), ...netFlags, '--guest', 'vm1@virbr2=192.168.124.10', '--matrix', '--services', 'icmp,tcp/80,udp/53'],
    },
    { title: 'Every rule of the host, explained', command: 'explain', argv: [lab('lab-host.save'), ...netFlags, '--format', 'text'] },
  ];
  const { main } = await import('./main.js');
  for (const step of steps) {
    io.stdout(`\n${s.bold(s.cyan(`# ${step.title}`))}\n${s.dim(`$ virtables ${step.command} ${step.argv.join(' ')}`)}\n\n`);
    const code = await main([step.command, ...step.argv], io);
    if (code === 2) return 2;
  }
  return 0;
}
