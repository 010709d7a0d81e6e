// The program as a shell script a person can read and run: each command on one line, with
// the network, purpose and reason above it. Read-only probes are left out; commands the real
// tool refuses are kept but commented out; libvirt's ignore-errors commands get `|| true`.

import type { Command, Program } from '../engine/program.js';
import { shellWord } from './args.js';

export interface ShellOptions {
  readonly setup?: boolean;
}

function line(command: Command): string {
  const text = command.argv.map(shellWord).join(' ');
  const head = `# ${command.network}: ${command.purpose} — ${command.why}\n`;
  if (command.effect.kind === 'refused') return `${head}# refused: ${command.effect.reason}\n# ${text}\n`;
  return `${head}${text}${command.ignoreErrors ? ' || true' : ''}\n`;
}

export function formatProgramShell(program: Program, options: ShellOptions = {}): string {
  const header = `#!/bin/sh\n# ${program.era} (${program.flavor}): ${program.networks.join(', ') || 'no networks'}, in start order\n`;
  const notes = program.notes.map((n) => `# note: ${n}\n`).join('');
  const body = program.commands
    .filter((c) => (options.setup === true || !c.setup) && c.purpose !== 'probe')
    .map(line)
    .join('');
  return header + notes + body;
}
