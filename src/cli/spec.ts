// Every command and its options as data (as TypeScript's own CLI declares `optionDeclarations`):
// the parser, each command's --help, the manual page and the shell completion are all made from
// this table, and each command's option values are typed from it. Pure data, cheap to load: the
// command modules themselves are loaded lazily (commands.ts), only for the command that runs.

import { DEFAULT_LEGACY_VERSION, DEFAULT_LIBVIRT_VERSION, DEFAULT_XEN_VERSION } from '../engine/version.js';

/** One option. `choices` maps each fixed value to its own help line (null: the option's line covers it). */
export interface OptionDecl {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Repeatable: the values are collected in order. */
  readonly multiple?: boolean;
  /** The value's placeholder in the help (`NET`, `DIR`, `LEVEL`). */
  readonly arg?: string;
  /** What completion offers for a free value. */
  readonly value?: 'file' | 'directory';
  readonly choices?: Readonly<Record<string, string | null>>;
  /** Choices match whatever the case (`--state new`); the value is the choice as declared. */
  readonly ignoreCase?: boolean;
  /** Its help text; further lines continue the description. */
  readonly help: string;
  /** The heading of the block of options it opens or belongs to (the topology options). */
  readonly group?: string;
}

export interface ArgumentDecl {
  /** As the help names it (`DUMP`, `NET`, `BEFORE, AFTER`). */
  readonly name: string;
  readonly help: string;
}

export interface CommandSpec {
  readonly summary: string;
  /** The synopsis after `Usage: virtables ` (further lines are further forms). */
  readonly usage: string;
  /** What the command does, as paragraphs for its --help. */
  readonly about: string;
  readonly args: readonly ArgumentDecl[];
  /** What the arguments are, for completion: files, fixed words, or nothing. */
  readonly positional:
    | { readonly kind: 'files' }
    | { readonly kind: 'choices'; readonly words: readonly string[] }
    | { readonly kind: 'none' };
  readonly options: Readonly<Record<string, OptionDecl>>;
  /** Text after the options (defaults, where to read more). */
  readonly notes?: string;
  /** Fixed values known only once loaded (the check ids of `audit --skip`), for help and completion. */
  readonly lateChoices?: {
    readonly option: string;
    readonly load: () => Promise<readonly string[]>;
    readonly label: string;
  };
  readonly exit: string;
}

/** The options trace and diagram share: what the host around a dump looks like. */
const TOPOLOGY = 'Topology (what the host looks like; see docs/commands/trace.md):';
const EVALUATED = 'What the rules are evaluated against (a condition no input decides is followed both ways):';

const TOPOLOGY_OPTIONS = {
  net: {
    type: 'string',
    multiple: true,
    arg: 'FILE',
    value: 'file',
    group: TOPOLOGY,
    help: `a libvirt network XML: its bridge and addresses (repeatable); each
network gets a guest '<name>-vm' unless --guest places one there.
Xen: a xend-config.sxp and guest configurations (domains 1, 2, …)`,
  },
  topology: {
    type: 'string',
    arg: 'FILE',
    value: 'file',
    group: TOPOLOGY,
    help: 'a topology file (uplink, bridge, network, guest, outside, route, …)',
  },
  uplink: {
    type: 'string',
    arg: 'SPEC',
    group: TOPOLOGY,
    help: 'NAME=ADDRESS/LEN[,gw=ADDRESS][,port=NAME]   (default eth0=10.0.2.15/24,gw=10.0.2.2)',
  },
  bridge: {
    type: 'string',
    multiple: true,
    arg: 'SPEC',
    group: TOPOLOGY,
    help: 'NAME[=ADDRESS/LEN,…]  a bridge no network file describes',
  },
  guest: {
    type: 'string',
    multiple: true,
    arg: 'SPEC',
    group: TOPOLOGY,
    help: 'NAME@BRIDGE=ADDRESS[/LEN][,gw=ADDRESS|none][,port=NAME][,mac=MAC]',
  },
  outside: {
    type: 'string',
    multiple: true,
    arg: 'ADDRESS',
    group: TOPOLOGY,
    help: 'an address of the outside world (default 203.0.113.10)',
  },
  'ip-forward': { type: 'string', choices: { on: null, off: null }, group: TOPOLOGY, help: '(default on)' },
  'br-netfilter': {
    type: 'string',
    choices: { on: null, off: null, auto: null },
    group: TOPOLOGY,
    help: 'iptables sees bridged traffic (auto: on when the dump uses physdev)',
  },
  mac: {
    type: 'string',
    multiple: true,
    arg: 'GUEST=MAC',
    group: EVALUATED,
    help: 'the MAC address a guest sends from (-m mac, MAC members of ipsets; repeatable)',
  },
  ipset: {
    type: 'string',
    multiple: true,
    arg: 'FILE',
    value: 'file',
    group: EVALUATED,
    help: "`ipset save` output: -m set and -j SET decided by the sets' members (repeatable)",
  },
  assume: {
    type: 'string',
    multiple: true,
    arg: 'WHAT',
    group: EVALUATED,
    help: `state no input shows (repeatable): 'recent empty' (every -m recent list starts
empty), 'limit under' or 'limit over' (rate limits under / over their rate)`,
  },
} as const satisfies Record<string, OptionDecl>;

/** `--format`/`-f`: the forms a command prints, each with its help line (null: the option's line covers it). */
const formatOption = <C extends Readonly<Record<string, string | null>>>(choices: C) =>
  ({ type: 'string', short: 'f', help: '', choices }) as const satisfies OptionDecl;

const NET_OPTION = {
  type: 'string',
  multiple: true,
  arg: 'NET',
  value: 'file',
  help: `a network definition (libvirt XML, Xen set-up) or a directory of them;
repeatable. Without it, networks are inferred from the dump`,
} as const satisfies OptionDecl;

const DUMP_KINDS = `iptables-save, ip6tables-save, nft list ruleset or nft -j list ruleset
output (recognised by content)`;

export const SPECS = {
  demo: {
    summary: 'run virtables on the bundled seed-lab host (what npm start does)',
    usage: 'demo',
    about: `Runs virtables on the bundled example: the Xen/libvirt seed lab host (corpus/seed-lab/),
with its networks default (NAT), host-only and natted started on CentOS 5 era libvirt,
and a port forward to a web server on a guest. Shows each network, what starting them
changed in the firewall, what an audit finds (the lab's DNS leak, the exposed guest, the
networks that reach each other), who reaches whom, and every rule explained.`,
    args: [],
    positional: { kind: 'none' },
    options: {},
    exit: '0 shown, 2 a step failed.',
  },
  parse: {
    summary: 'read an iptables-save dump and print it canonically (save or json)',
    usage: `parse [DUMP|-] [--format save|nft|json] [--counters] [--family ipv4|ipv6]
       virtables parse --check FILE… [--format text|json] [--family ipv4|ipv6]`,
    about: `Reads a dump and prints it back in canonical form. The kind is told from the content:
  iptables-save / ip6tables-save (any iptables era from 1.3.x to 1.8.x, legacy or nft):
    printed exactly as iptables 1.8.9 would after loading it with iptables-restore;
  nft list ruleset text, or nft -j list ruleset JSON:
    printed exactly as nft 1.0.6 lists it after loading it with nft -f.
An empty file holds no tables and prints nothing.

With --check, reads each FILE as iptables-restore 1.8.9 would and prints only what is
wrong, as FILE:LINE:COL: error: …, without root or a kernel: every option of every
extension iptables 1.8.9 ships is checked (values, ranges, required and excluded
options, families, tables and chains), and so are the table's jumps, loops and chain
names. Extensions iptables 1.8.9 does not ship are carried through and reported as
FILE:LINE:COL: note: … not validated. A pre-commit hook (virtables-check).`,
    args: [{ name: 'DUMP', help: "the dump; '-' or nothing reads standard input (with --check: FILE…)" }],
    positional: { kind: 'files' },
    options: {
      format: formatOption({
        save: 'canonical iptables-save text (iptables input: the default)',
        nft: 'canonical nft text (nft input: the default)',
        json: `iptables: the parsed model with positions (docs/json.md);
nft: the ruleset as nft -j list ruleset prints it;
with --check, one entry per file with its errors and notes`,
        text: 'with --check: FILE:LINE:COL: error|note: … lines on stderr (its default)',
      }),
      counters: {
        type: 'boolean',
        short: 'c',
        help: 'keep [packets:bytes] counters on iptables rules (like iptables-save -c)',
      },
      check: {
        type: 'boolean',
        help: 'check FILE… (iptables restore files) and print only problems (exit 0: all load, 2: some do not)',
      },
      family: {
        type: 'string',
        help: `read an iptables dump as this family, for dumps that do not say (no
'# Generated by ip6tables-save' line); otherwise the header, the file name
(ip6tables, *.v6) or the addresses tell`,
        choices: { ipv4: null, ipv6: null },
      },
    },
    exit: `0 parsed (with --check: every file would load), 2 bad input or usage (the message
names FILE:LINE:COL, or the JSON element's path).`,
  },
  explain: {
    summary: 'annotate every rule of a dump: its network, its job and why it is there',
    usage: 'explain [DUMP…|-] [--net NET…] [--format table|text|json]',
    about: `Annotates every rule of a host's firewall with the network it belongs to, the job it does
(dhcp-in, forward-out, masquerade, …) and a sentence saying why it is there, grouped by
network, then the host's own rules. libvirt's nftables tables (libvirt 10.4+) are read rule
by rule with the purposes libvirt gives them; firewalld's and Docker's nft tables are
theirs; rules virtables does not know are described from their matches and statements.
Give several dumps of one host together (iptables-save, ip6tables-save, nft). Rules that
can never match are marked so; rules whose verdict depends on state (recent, limit, set
contents, matches virtables does not evaluate) are marked "depends on state".`,
    args: [
      {
        name: 'DUMP',
        help: `${DUMP_KINDS}, or a directory of them (as live\n--save-dir writes); '-' or nothing reads standard input`,
      },
    ],
    positional: { kind: 'files' },
    options: {
      net: NET_OPTION,
      format: formatOption({
        table: 'a table per network (default on a terminal)',
        text: 'plain lines (default in a pipe)',
        json: '{file, inputs, networks, rules, nftRules} (docs/json.md)',
      }),
    },
    exit: '0 explained, 2 bad input or usage.',
  },
  diff: {
    summary: 'what changed between two dumps, attributed to networks and explained',
    usage: 'diff BEFORE AFTER [--net NET…] [--format text|json]',
    about: `Compares two dumps of a host (e.g. before and after 'virsh net-start natted') and explains
each change in words, attributed to its network: rules are the same when they mean the
same in any era's spelling; a rule that changed position is reported as moved, from where
to where; counters, nft handles and comments never count as changes. Says, per network,
what the rules amount to (isolated, nat, route, partial) and how modes differ
("natted = host-only + masquerade, forward-out, related-in").`,
    args: [
      {
        name: 'BEFORE, AFTER',
        help: `${DUMP_KINDS}, or a directory of them (one host,\nas live --save-dir writes); one of them may be '-'`,
      },
    ],
    positional: { kind: 'files' },
    options: {
      net: {
        ...NET_OPTION,
        help: `a network definition (libvirt XML, Xen set-up) or a directory of them;
repeatable. Without it, networks are inferred from the dumps (virbrN
bridges with their subnets, Xen vifs, Docker bridges)`,
      },
      format: formatOption({
        text: 'for people (default)',
        json: '{added, removed, moved, respelled, chains, networks, summary, nft}\n(docs/json.md)',
      }),
    },
    exit: '0 compared (whatever changed), 2 bad input or usage.',
  },
  compile: {
    summary: 'derive the rules libvirt or Xen installs for networks (save, args, shell, nft, json)',
    usage: 'compile NET… [options]',
    about: `Derives the firewall commands libvirt or Xen runs when the given networks start (in the
order given), each rule with its network, purpose and a sentence saying why, and prints
them or the firewall they leave behind.`,
    args: [
      {
        name: 'NET',
        help: `libvirt network XML (virsh net-dumpxml, /etc/libvirt/qemu/networks/*.xml;
several <network>s per file are fine); or a Xen host: its
xend-config.sxp and its guests' domU configurations (vif = [ … ]),
the guests running as domains 1, 2, … in order (see --domids), or
one Xen set-up file (docs/commands/compile.md); '-' reads standard input`,
      },
    ],
    positional: { kind: 'files' },
    options: {
      flavor: {
        type: 'string',
        arg: 'F',
        choices: {
          libvirt: null,
          'libvirt-legacy': null,
          'libvirt-nft': null,
          'xen-bridge': null,
          'xen-nat': null,
          'xen-route': null,
        },
        help: `libvirt (default: 5.1+, private LIBVIRT_* chains, iptables backend)
libvirt-legacy (before 5.1: rules in INPUT/FORWARD/POSTROUTING)
libvirt-nft (10.4+ nftables backend)
xen-bridge, xen-nat, xen-route (Xen's network-* and vif-* scripts;
the default for a Xen host or set-up: its own script's mode)`,
      },
      format: formatOption({
        save: 'iptables-save text of the resulting firewall (default; nft flavour: nft)',
        args: "the commands in libvirt's test-vector format (networkxml2firewalltest)",
        shell: 'the commands as a commented shell script',
        nft: 'nft list ruleset of the resulting libvirt_network tables (libvirt-nft)',
        json: 'the program: every command with argv, effect, network, purpose, why',
      }),
      base: {
        type: 'string',
        arg: 'DUMP',
        value: 'file',
        help: `the host's iptables-save (or ip6tables-save) before the networks
start; save then prints the whole resulting dump, and the one-time
chain set-up is only done where missing, as libvirt checks`,
      },
      setup: {
        type: 'boolean',
        help: `include the one-time chain set-up commands in args/shell/json
(libvirt's base.iptables / base.nftables); save and nft always apply it`,
      },
      family: {
        type: 'string',
        choices: { ipv4: null, ipv6: null },
        help: `which side save prints: iptables-save or ip6tables-save (default ipv4,
or the family of --base)`,
      },
      'libvirt-version': {
        type: 'string',
        arg: 'X.Y.Z',
        help: `the libvirt release to model (legacy: default ${DEFAULT_LEGACY_VERSION}, e.g. 0.6.3 for
CentOS 5; libvirt/libvirt-nft: default ${DEFAULT_LIBVIRT_VERSION})`,
      },
      'xen-version': {
        type: 'string',
        arg: 'X.Y',
        help: `the Xen release to model (default ${DEFAULT_XEN_VERSION}, the last with xend)`,
      },
      domids: {
        type: 'string',
        arg: 'N,N,…',
        help: 'the domain ids of the domU configurations, in order (default 1, 2, …)',
      },
    },
    exit: '0 compiled, 2 bad input or usage (the message names FILE:LINE:COL).',
  },
  audit: {
    summary:
      'find leaks and gaps: missing, shadowed and stale rules, reachable guests, DNS leaks, conflicts (text, json, sarif)',
    usage: `audit [DUMP…|-] [--net NET…] [--inactive NET…] [--flavor F]
                       [--libvirt-version X.Y.Z] [--format text|json|sarif|html]
                       [--fail-on error|warning|info] [--skip CHECK…]`,
    about: `Finds every leak and gap in a virtualisation host's firewall: rules a running network
should have and lacks, rules that are there but never decide, guests reachable from
outside or from other networks, DNS that leaks out of isolated networks, NAT that is
missing or too broad, leftovers of removed networks, clashes with Docker, ufw and
firewalld. Each finding names the rule's line, why it matters and how to fix it.
Order matters, so reachability is traced packet by packet through the rules.`,
    args: [
      {
        name: 'DUMP',
        help: `iptables-save, ip6tables-save, nft list ruleset or nft -j list ruleset
output, recognised by content ('-' or nothing: standard input), or
a directory of them (as live --save-dir writes); dumps in one
directory are one host. Network definitions given here are taken
as running, like --net`,
      },
    ],
    positional: { kind: 'files' },
    options: {
      net: {
        type: 'string',
        multiple: true,
        arg: 'NET',
        value: 'file',
        help: `a running network: libvirt XML, Xen set-up, or a directory of them
(repeatable). Without any, the dump is audited as it stands`,
      },
      inactive: {
        type: 'string',
        multiple: true,
        arg: 'NET',
        value: 'file',
        help: 'a network that is defined but stopped: its rules must be absent',
      },
      flavor: {
        type: 'string',
        arg: 'F',
        choices: { libvirt: null, 'libvirt-legacy': null, 'libvirt-nft': null },
        help: `libvirt (5.1+, LIBVIRT_* chains), libvirt-legacy (before 5.1) or
libvirt-nft (10.4+ nftables backend); detected from the dump if not given`,
      },
      'libvirt-version': {
        type: 'string',
        arg: 'V',
        help: 'the libvirt release (default: the era that fits the dump best)',
      },
      format: formatOption({
        text: 'grouped by network, coloured on a terminal (default)',
        json: '{findings:[{id,severity,network,message,fix,location:{file,line}}],\n networks:[…], hosts:[…]}',
        sarif: 'SARIF 2.1.0 for code scanning (GitHub, GitLab)',
        html: `one self-contained page: the findings, the diagram, every rule
explained (virtables audit … --format html > report.html)`,
      }),
      'fail-on': {
        type: 'string',
        arg: 'LEVEL',
        choices: { error: null, warning: null, info: null },
        help: 'exit 1 when a finding is at least this severe (default: error)',
      },
      skip: { type: 'string', multiple: true, arg: 'CHECK', help: 'leave a check out (repeatable); see docs/checks/' },
    },
    lateChoices: {
      option: 'skip',
      label: 'Checks',
      load: async () => (await import('../audit/checks/index.js')).CHECKS.map((c) => c.id),
    },
    exit: '0 nothing at --fail-on or above, 1 findings, 2 bad input or usage.',
  },
  check: {
    summary: 'check an expectations file (reachability, rule sets) against a dump: pass/fail with the trace',
    usage: `check POLICY [--dump DUMP] [--net NET…] [--before DUMP] [--rules FILE]
                       [--guest-dump GUEST=DUMP…] [--answer DIR] [--format text|json] [-v]`,
    about: `Checks the assertions of an expectations file (docs/expect.md) — "vm1 -> outside tcp/80 :
allowed", "outside -> host:8080 -> vm1:80 : allowed", "vm1 <-> vm2 : blocked", "after
starting natted, the added rules are exactly libvirt's" — against a firewall. Reachability
is decided by tracing packets through the dump (the first packet and its reply); rule sets
are compared with the rules the engine derives, whatever era's spelling. A failed assertion
shows the packet's trace, or the missing and extra rules.`,
    args: [{ name: 'POLICY', help: "the expectations file ('-' reads standard input)" }],
    positional: { kind: 'files' },
    options: {
      dump: {
        type: 'string',
        arg: 'DUMP',
        value: 'file',
        help: "the host's iptables-save (the firewall the assertions are about)",
      },
      net: {
        type: 'string',
        multiple: true,
        arg: 'NET',
        value: 'file',
        help: `a network definition (libvirt XML) the policy declares without a file;
repeatable; a directory gives every *.xml in it`,
      },
      before: {
        type: 'string',
        arg: 'DUMP',
        value: 'file',
        help: 'the firewall before the networks started ("the added rules")',
      },
      rules: {
        type: 'string',
        arg: 'FILE',
        value: 'file',
        help: `a rule listing or commands (iptables-save, iptables -S, iptables -L -n [-v],
iptables commands) for rule-set assertions and "the answer's commands"`,
      },
      'guest-dump': {
        type: 'string',
        multiple: true,
        arg: 'G=DUMP',
        help: 'the iptables-save of guest G, a guest that routes for others',
      },
      answer: {
        type: 'string',
        arg: 'DIR',
        value: 'directory',
        help: `take everything above from DIR by name (host.save, before.save, *.xml,
rules.txt, GUEST.save); flags given as well win`,
      },
      format: formatOption({
        text: 'one line per assertion, with the reason and, on failure, the trace (default)',
        json: '{file, title, era, passed, failed, undecided, results} (docs/expect.md)',
      }),
      verbose: { type: 'boolean', short: 'v', help: 'traces and rule lists for passing assertions too' },
    },
    exit: '0 every assertion holds, 1 one fails (or cannot be decided), 2 bad input or usage.',
  },
  lab: {
    summary: "list a lab's tasks, or grade an answer directory against the lab's sheets",
    usage: `lab list [LAB] [--format text|json]
       virtables lab check LAB --answer DIR [--only ID] [--format text|json] [-v]`,
    about: `A lab is a directory with a lab file (lab.txt) listing its tasks and queries, each checked
by expectation sheets (docs/expect.md). 'list' shows the bundled labs, or one lab's tasks.
'check' grades an answer directory: one sub-directory per task or query, named by its id
(0.2.1/, 4/ or q4/), holding the student's evidence by name — host.save (iptables-save of
the host), before.save, *.xml (network definitions), rules.txt (rules or commands, in
iptables-save, iptables -S, iptables -L -n [-v] or command form), GUEST.save (a guest's own
firewall), setup.expect (the guests of the set-up) — whatever the query asks for.`,
    args: [{ name: 'LAB', help: 'a lab directory, or the name of a bundled lab (xen-networking)' }],
    positional: { kind: 'choices', words: ['list', 'check'] },
    options: {
      answer: { type: 'string', arg: 'DIR', value: 'directory', help: 'the answer directory' },
      only: { type: 'string', arg: 'ID', help: "grade one task or query; DIR may then be that task's answer itself" },
      format: formatOption({
        text: 'per task: PASS/FAIL and, for each failed check, why and the hint (default)',
        json: '{lab, title, answer, passed, failed, unanswered, queries} (docs/expect.md)',
      }),
      verbose: {
        type: 'boolean',
        short: 'v',
        help: 'every check, with traces and rule lists, not only the failed ones',
      },
    },
    exit: '0 every graded task passes, 1 one fails or is unanswered, 2 bad input or usage.',
  },
  net: {
    summary: 'say what each libvirt/Xen virtual network is: mode, bridge, subnets, DHCP, DNS',
    usage: 'net FILE… [--format table|json]',
    about: `Says what each virtual network is: its mode and what that means for the guests, its
bridge, subnets, DHCP range and whether its DNS server answers.

Inputs (recognised by their content):
  libvirt network XML   /etc/libvirt/qemu/networks/*.xml, 'virsh net-dumpxml' output (several
                        documents may follow one another), or libvirt's status XML
  xend-config.sxp       a Xen host's (network-script …) and (vif-script …)
  domU configurations   Xen guests' 'vif = [ … ]' lines; with the host's xend-config.sxp they
                        make one Xen network, the guests running as domains 1, 2, … in order`,
    args: [{ name: 'FILE', help: "a file; '-' reads standard input" }],
    positional: { kind: 'files' },
    options: {
      format: {
        type: 'string',
        short: 'f',
        help: '',
        choices: { table: 'one table per network (default)', json: 'the networks as JSON (see docs/commands/net.md)' },
      },
    },
    notes: `libvirt's defaults are filled in (<forward/> is nat, stp on, delay 0, NAT ports 1024-65535,
prefix from netmask or the address class) and libvirt's own validation applies: an invalid
definition is reported as FILE:LINE:COL with libvirt's message.`,
    exit: '0 read, 2 bad input or usage.',
  },
  trace: {
    summary: 'walk a packet (or every pair: --matrix) through the dump as the kernel would',
    usage: `trace DUMP... --from NODE --to NODE [--proto tcp|udp|icmp] [--dport N]
       virtables trace DUMP... --matrix [--services icmp,tcp/22,tcp/80,udp/53]
         [--net NET.xml]... [--topology FILE] [--uplink …] [--guest …]... [--format text|json]`,
    about: `Walks a packet through the host's firewall the way the Linux kernel does — at each of
PREROUTING / INPUT / FORWARD / OUTPUT / POSTROUTING every base chain by priority: iptables'
tables (raw, mangle, nat, filter, security) and nft's chains alike, conntrack, the NAT core —
the routing decisions between them, jumps and RETURNs, policies and NAT; then the reply back.
Prints the verdict (delivered, dropped, rejected, unreachable, or unknown when a rule uses
a match virtables cannot evaluate, or when it depends on an order no input shows), the
addresses after NAT, and every rule that acted.`,
    args: [
      {
        name: 'DUMP...',
        help: `the host's firewall: iptables-save, ip6tables-save, nft list ruleset
(text or -j JSON), in any mix, or a directory of them; '-' reads
standard input. IPv4 is traced, unless only ip6tables-save is given
or --from/--to are IPv6 addresses`,
      },
    ],
    positional: { kind: 'files' },
    options: {
      from: {
        type: 'string',
        arg: 'NODE',
        help: "where the packet starts: host, a guest's name, outside, or an IP address",
      },
      to: { type: 'string', arg: 'NODE', help: 'where it goes (the same kinds of node)' },
      proto: {
        type: 'string',
        short: 'p',
        arg: 'P',
        choices: { tcp: null, udp: null, icmp: null },
        help: 'tcp (default), udp or icmp',
      },
      dport: { type: 'string', arg: 'N', help: 'the destination port (default: tcp 80, udp 53)' },
      sport: { type: 'string', arg: 'N', help: 'the source port (default 40000)' },
      state: {
        type: 'string',
        arg: 'S',
        ignoreCase: true,
        choices: { NEW: null, ESTABLISHED: null, RELATED: null, INVALID: null },
        help: `conntrack state of the first packet: NEW (default), ESTABLISHED,
RELATED, INVALID (no reply is traced unless NEW)`,
      },
      matrix: { type: 'boolean', help: 'trace host, every guest and outside against each other' },
      services: { type: 'string', arg: 'LIST', help: 'matrix services (default icmp,tcp/22,tcp/80,udp/53)' },
      ...TOPOLOGY_OPTIONS,
      format: { type: 'string', short: 'f', choices: { text: null, json: null }, help: '(default text)' },
    },
    exit: '0 traced (whatever the verdict), 2 bad input or usage.',
  },
  diagram: {
    summary: 'draw the host, bridges, guests and outside with what the rules let through (dot, mermaid, svg)',
    usage: `diagram DUMP... [--net NET.xml]... [--topology FILE] [--uplink …] [--guest …]...
                         [--format dot|mermaid|svg|json] [--layout auto|graphviz|bundled]
                         [--services icmp,tcp/22,tcp/80,udp/53]`,
    about: `Draws the host the way the seed lab's connectivity figures do — the outside world, the
uplink, the host with its bridges (subnet and mode), the guests on their ports — from the
data, and labels an arrow between every two of host, guests and outside with what the
dump's rules let through (the services whose connection works, as trace --matrix finds
them, or '—'). Arrows whose addresses NAT rewrites say so, with the addresses; port
forwards (DNAT from outside to a guest) get an arrow of their own.`,
    args: [
      {
        name: 'DUMP...',
        help: `the host's firewall: iptables-save, ip6tables-save, nft list ruleset
(text or -j JSON), together or a directory of them; '-' reads
standard input`,
      },
    ],
    positional: { kind: 'files' },
    options: {
      format: formatOption({
        dot: 'Graphviz DOT (default)',
        mermaid: 'a Mermaid flowchart, for Markdown',
        svg: `a picture: laid out by Graphviz's dot when installed, else by
virtables' own layered layout (stderr says which)`,
        json: '{title, family, nodes, wires, edges}',
      }),
      layout: {
        type: 'string',
        arg: 'L',
        choices: { auto: null, graphviz: null, bundled: null },
        help: 'for svg: auto (default), graphviz (fail without dot), bundled',
      },
      services: { type: 'string', arg: 'LIST', help: 'the services to try (default icmp,tcp/22,tcp/80,udp/53)' },
      ...TOPOLOGY_OPTIONS,
    },
    exit: '0 drawn, 2 bad input or usage.',
  },
  live: {
    summary: "collect this host's firewall and libvirt networks (read-only commands) and audit them",
    usage: `live [--format text|json|sarif] [--fail-on error|warning|info]
                      [--connect URI] [--save-dir DIR] [--from-dir DIR]`,
    about: `Audits this host as it is now. Runs, and only runs, these read-only commands:
  iptables-save, ip6tables-save, nft -j list ruleset (when nft is installed; nft list ruleset
  for an nft without -j),
  virsh --readonly net-list --all --name, virsh --readonly net-list --name (running ones),
  virsh --readonly net-dumpxml --network NAME (each network)
then audits them as one host (IPv4, IPv6 and nft together, each finding once) with the
networks: running ones as --net, defined but stopped ones as --inactive. Needs root for iptables-save. Nothing goes through a shell; no firewall or
network is changed (virsh is opened read-only).`,
    args: [],
    positional: { kind: 'none' },
    options: {
      format: formatOption({
        text: 'findings for people (default)',
        json: `the audit's JSON with a "collection" member: host, files, networks,
what could not be collected`,
        sarif: "SARIF 2.1.0; what could not be collected is in the run's invocation",
      }),
      'fail-on': {
        type: 'string',
        arg: 'LEVEL',
        choices: { error: null, warning: null, info: null },
        help: `exit 1 when a finding is at least this severe: error (default), warning
or info`,
      },
      connect: {
        type: 'string',
        short: 'c',
        arg: 'URI',
        help: `the libvirt connection of this host (default: LIBVIRT_DEFAULT_URI, else
virsh's own); URIs that run a program (+ext, +ssh, command=, …) or
reach another host are refused (docs/commands/live.md)`,
      },
      'save-dir': {
        type: 'string',
        arg: 'DIR',
        value: 'directory',
        help: `also write what was collected into DIR (new or empty), in the layout
--from-dir reads (docs/commands/live.md)`,
      },
      'from-dir': {
        type: 'string',
        arg: 'DIR',
        value: 'directory',
        help: `audit a directory collected earlier, here or on another host, instead
of this host (iptables-save.txt, ip6tables-save.txt, nft-ruleset.json or nft-ruleset.txt,
networks/NAME.xml, networks/active.txt; every file optional)`,
      },
    },
    exit: `0 clean, 1 findings at --fail-on, 2 usage error or bad input, or something could
not be collected (tool missing, not root, libvirt absent): the rest is audited and the
missing parts are named.`,
  },
  completion: {
    summary: 'print a bash or zsh completion script',
    usage: 'completion bash|zsh',
    about: `Prints a shell completion script for virtables: commands, each command's flags, the values
of --format and the other flags whose values are a fixed list, and files or directories
where a flag or argument takes one.`,
    args: [
      {
        name: 'bash',
        help: 'for bash 4+:   source <(virtables completion bash)\nor install:    virtables completion bash > /etc/bash_completion.d/virtables',
      },
      {
        name: 'zsh',
        help: 'for zsh:       source <(virtables completion zsh)   (after compinit)\nor install:    virtables completion zsh > "${fpath[1]}/_virtables"',
      },
    ],
    positional: { kind: 'choices', words: ['bash', 'zsh'] },
    options: {},
    exit: '0 printed, 2 usage.',
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof SPECS;

export const COMMAND_NAMES = Object.keys(SPECS) as CommandName[];

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(SPECS, name);
}

// --- option values, typed from the table ---------------------------------------------------------

type ChoiceOf<O> = O extends { readonly choices: infer C } ? Extract<keyof C, string> : string;

type ValueOf<O> = O extends { readonly type: 'boolean' }
  ? boolean
  : O extends { readonly multiple: true }
    ? ChoiceOf<O>[]
    : ChoiceOf<O>;

/** The values `virtables NAME …` was given, each typed as its declaration says (absent: undefined). */
export type Values<N extends CommandName> = {
  readonly [K in keyof (typeof SPECS)[N]['options']]?: ValueOf<(typeof SPECS)[N]['options'][K]>;
};

/** What a command's run() is given: its options' values and its arguments. */
export interface Args<N extends CommandName> {
  readonly values: Values<N>;
  readonly positionals: string[];
}
