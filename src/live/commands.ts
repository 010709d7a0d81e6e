// The only commands live mode may run: each one reads and none changes anything. virsh is always
// opened read-only (--readonly), so libvirt itself would refuse a change even if one were asked.
// `<uri>` and `<network>` are slots filled by exactly one argv element each; nothing goes
// through a shell (src/live/run.ts).

import { hasControl } from '../model/text.js';
import { connectProblem } from './uri.js';

export type Slot = '<uri>' | '<network>';

/** An argv template: literal elements and slots. */
export type Template = readonly string[];

export const READ_ONLY_COMMANDS = {
  iptablesSave: ['iptables-save'],
  ip6tablesSave: ['ip6tables-save'],
  // JSON (libnftables-json): every statement as data, no spelling to re-parse; nft's text for an nft without -j.
  nftRulesetJson: ['nft', '-j', 'list', 'ruleset'],
  nftRuleset: ['nft', 'list', 'ruleset'],
  virshNetworks: ['virsh', '--readonly', 'net-list', '--all', '--name'],
  virshNetworksAt: ['virsh', '--readonly', '--connect', '<uri>', 'net-list', '--all', '--name'],
  virshActive: ['virsh', '--readonly', 'net-list', '--name'],
  virshActiveAt: ['virsh', '--readonly', '--connect', '<uri>', 'net-list', '--name'],
  virshDumpxml: ['virsh', '--readonly', 'net-dumpxml', '--network', '<network>'],
  virshDumpxmlAt: ['virsh', '--readonly', '--connect', '<uri>', 'net-dumpxml', '--network', '<network>'],
} as const satisfies Record<string, Template>;

export type CommandName = keyof typeof READ_ONLY_COMMANDS;

const SLOTS: ReadonlySet<string> = new Set<Slot>(['<uri>', '<network>']);

/** Why a slot value cannot be used, or null. Names become file names (networks/NAME.xml) too. */
export function slotProblem(slot: Slot, value: string): string | null {
  if (value === '') return 'is empty';
  if (hasControl(value) || value.includes('\n')) return 'contains a control character or line break';
  if (slot === '<network>' && value.includes('/')) return "contains '/' (libvirt forbids it in network names)";
  if (slot === '<uri>') return value.startsWith('-') ? "starts with '-'" : connectProblem(value);
  return null;
}

/** The argv of a listed command with its slots filled; throws on a value no slot may take. */
export function commandLine(name: CommandName, values: Partial<Record<Slot, string>> = {}): string[] {
  return READ_ONLY_COMMANDS[name].map((part) => {
    if (!SLOTS.has(part)) return part;
    const value = values[part as Slot];
    if (value === undefined) throw new Error(`live: ${name} needs ${part}`);
    const problem = slotProblem(part as Slot, value);
    if (problem) throw new Error(`live: ${part} value ${JSON.stringify(value)} ${problem}`);
    return value;
  });
}

/** Whether argv is one of the listed commands, element by element, with valid slot values. */
export function isReadOnlyCommand(argv: readonly string[]): boolean {
  return Object.values(READ_ONLY_COMMANDS).some(
    (template: Template) =>
      template.length === argv.length &&
      template.every((part, i) => {
        const arg = argv[i]!;
        return SLOTS.has(part) ? slotProblem(part as Slot, arg) === null : part === arg;
      }),
  );
}
