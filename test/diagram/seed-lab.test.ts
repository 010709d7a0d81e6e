// `virtables diagram` on the seed lab's scenarios (shared/seeds/000 figures 1–4): every bridge,
// guest and wire is there, and each arrow between host, guests and outside says exactly what
// `trace --matrix` finds for that pair with the same topology — read back from the DOT (with a
// DOT reader), from Graphviz's SVG and from the bundled layout's SVG (parsed as XML).

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNetworks } from '../../src/network/libvirt.js';
import { formatHost } from '../../src/model/cidr.js';
import { runCli } from '../helpers/cli.js';
import { labelLines, readDot, type DotGraph } from '../helpers/dot-reader.js';
import { describeCorpus, describeGraphviz, REPO_CORPUS, SHARED_CORPUS } from '../helpers/env.js';
import { read } from '../helpers/files.js';
import { readSvg, type SvgDiagram } from '../helpers/svg-reader.js';

const SEED = join(REPO_CORPUS, 'seed-lab');
const seed = (f: string): string => join(SEED, f);

interface MatrixCell {
  from: string;
  to: string;
  service: string;
  state: string;
  translated: boolean;
  seen: { src: string; dst: string } | null;
}
interface Matrix {
  nodes: string[];
  services: string[];
  cells: MatrixCell[];
}

async function matrixOf(args: string[]): Promise<Matrix> {
  const r = await runCli(['trace', ...args, '--matrix', '--format', 'json']);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as Matrix;
}

async function dotOf(args: string[]): Promise<DotGraph> {
  const r = await runCli(['diagram', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return readDot(r.stdout);
}

const guestId = (name: string): string => (name === 'host' || name === 'outside' ? name : `guest/${name}`);

/** A label's lines as direction blocks: `A → B: services` and the `(…)` lines under it. */
function blocks(lines: readonly string[]): Array<{ head: string; subs: string[] }> {
  const out: Array<{ head: string; subs: string[] }> = [];
  for (const l of lines) {
    if (l.startsWith('(') && out.length > 0) out.at(-1)!.subs.push(l);
    else out.push({ head: l, subs: [] });
  }
  return out;
}

interface DrawnEdge {
  from: string;
  to: string;
  classes: string[];
  lines: string[];
}

/** Checks every pair of the matrix against the drawn reach edges: one edge per pair, both directions as trace says. */
function expectEdgesMatch(m: Matrix, edges: readonly DrawnEdge[]): void {
  const reach = edges.filter((e) => e.classes.includes('reach'));
  let pairs = 0;
  for (let i = 0; i < m.nodes.length; i++) {
    for (let j = i + 1; j < m.nodes.length; j++) {
      const a = m.nodes[i]!;
      const b = m.nodes[j]!;
      const between = reach.filter(
        (e) => (e.from === guestId(a) && e.to === guestId(b)) || (e.from === guestId(b) && e.to === guestId(a)),
      );
      expect(between, `${a} – ${b}`).toHaveLength(1);
      const bl = blocks(between[0]!.lines);
      expect(bl).toHaveLength(2);
      for (const [from, to] of [
        [a, b],
        [b, a],
      ] as const) {
        const ok = m.cells.filter((c) => c.from === from && c.to === to && c.state === 'ok');
        const services = m.services.filter((s) => ok.some((c) => c.service === s));
        const block = bl.find((x) => x.head.startsWith(`${from} → ${to}: `));
        expect(block?.head, `${from} → ${to}`).toBe(
          `${from} → ${to}: ${services.length > 0 ? services.join(', ') : '—'}`,
        );
        // NAT marked exactly where trace saw an address rewritten, naming the address it became.
        const nat = block!.subs.filter((s) => s.startsWith('(NAT '));
        const translated = ok.filter((c) => c.translated);
        expect(nat.length > 0, `NAT on ${from} → ${to}`).toBe(translated.length > 0);
        for (const c of translated)
          expect(
            nat.some((s) => s.endsWith(`→ ${c.seen!.src})`) || s.endsWith(`→ ${c.seen!.dst})`)),
            `${from} → ${to} ${c.service}`,
          ).toBe(true);
        const oneWay = m.services.filter((s) =>
          m.cells.some((c) => c.from === from && c.to === to && c.service === s && c.state === 'one-way'),
        );
        expect(block!.subs.filter((s) => s.startsWith('(one-way'))).toEqual(
          oneWay.length > 0 ? [`(one-way, the reply is lost: ${oneWay.join(', ')})`] : [],
        );
      }
      pairs++;
    }
  }
  expect(reach).toHaveLength(pairs);
}

function dotEdges(g: DotGraph): DrawnEdge[] {
  return g.edges
    .filter((e) => e.attrs.style !== 'invis')
    .map((e) => ({
      from: e.from,
      to: e.to,
      classes: (e.attrs.class ?? '').split(' '),
      lines: labelLines(e.attrs.label ?? e.attrs.xlabel ?? ''),
    }));
}

function svgEdges(s: SvgDiagram): DrawnEdge[] {
  return s.edges.map((e) => ({ from: e.from, to: e.to, classes: e.classes, lines: e.texts }));
}

/** The wires as `parent — child [label]`. */
function wires(edges: readonly DrawnEdge[]): string[] {
  return edges
    .filter((e) => e.classes.includes('wire'))
    .map((e) => `${e.from} — ${e.to}${e.lines.length > 0 && e.lines[0] !== '' ? ` [${e.lines.join(' ')}]` : ''}`);
}

/** The label lines a libvirt network's bridge gets: name, network and mode, the host's address. */
function bridgeLines(file: string): string[] {
  const n = readNetworks(read(file), file)[0]!;
  const mode = n.forward.mode === 'none' ? 'isolated' : n.forward.mode;
  const addresses = n.ips.map((ip) => `${formatHost(ip.family, ip.address.value)}/${ip.subnet.prefix}`);
  return [n.bridge!.name, `${n.name} · ${mode}`, ...(addresses.length > 0 ? addresses : ['no host address'])];
}

// --- the lab host with its three networks (figures 2 and 3, query 5's port forward) -----------

const threeNets = [
  seed('lab-host.save'),
  '--net',
  seed('default.xml'),
  '--net',
  seed('host-only.xml'),
  '--net',
  seed('natted.xml'),
];
// The port forward sends to 192.168.124.10, which no auto-placed guest has: the diagram adds that
// guest; trace gets the same guests named explicitly.
const threeNetsGuests = [
  '--guest',
  'natted-vm@virbr2=192.168.124.2',
  '--guest',
  '192.168.124.10@virbr2=192.168.124.10',
];

describe('diagram of the seed lab host (default, host-only, natted; query 5)', () => {
  it('draws the host box with the uplink and every bridge, each guest on its bridge, outside', async () => {
    const g = await dotOf(threeNets);
    const inHost = [...g.nodes.values()].filter((n) => n.cluster === 'cluster_host').map((n) => n.id);
    expect(inHost.sort()).toEqual(['bridge/virbr0', 'bridge/virbr1', 'bridge/virbr2', 'host', 'uplink/eth0']);
    for (const [bridge, file] of [
      ['virbr0', 'default.xml'],
      ['virbr1', 'host-only.xml'],
      ['virbr2', 'natted.xml'],
    ] as const) {
      expect(labelLines(g.nodes.get(`bridge/${bridge}`)!.attrs.label!)).toEqual(bridgeLines(seed(file)));
    }
    expect([...g.nodes.keys()].filter((k) => k.startsWith('guest/')).sort()).toEqual([
      'guest/192.168.124.10',
      'guest/default-vm',
      'guest/host-only-vm',
      'guest/natted-vm',
    ]);
    expect(g.nodes.get('outside')!.attrs.class).toBe('outside');
    const w = wires(dotEdges(g)).map((x) => x.replace(/\[vnet\d+\]$/, '[vnet]'));
    expect(w.sort()).toEqual([
      'bridge/virbr0 — guest/default-vm [vnet]',
      'bridge/virbr1 — guest/host-only-vm [vnet]',
      'bridge/virbr2 — guest/192.168.124.10 [vnet]',
      'bridge/virbr2 — guest/natted-vm [vnet]',
      'host — bridge/virbr0',
      'host — bridge/virbr1',
      'host — bridge/virbr2',
      'outside — uplink/eth0',
      'uplink/eth0 — host',
    ]);
    // Every guest has its own port.
    const ports = dotEdges(g)
      .filter((e) => e.classes.includes('wire') && e.to.startsWith('guest/'))
      .map((e) => e.lines[0]);
    expect(new Set(ports).size).toBe(4);
  });

  it('labels each pair with what trace --matrix finds, NAT marked', async () => {
    const g = await dotOf(threeNets);
    const m = await matrixOf([...threeNets, ...threeNetsGuests]);
    expect(m.nodes).toEqual(['host', 'default-vm', 'host-only-vm', 'natted-vm', '192.168.124.10', 'outside']);
    expectEdgesMatch(m, dotEdges(g));
    // Without the extra guest, trace places one at the port forward's target itself: the same labels.
    const plain = await matrixOf(threeNets);
    expect(plain.nodes).toEqual(['host', 'default-vm', 'host-only-vm', 'natted-vm', '192.168.124.10', 'outside']);
    expectEdgesMatch(plain, dotEdges(g));
  });

  it("draws query 5's port forward: outside → 192.168.124.10 through the DNAT rule, as trace follows it", async () => {
    const g = await dotOf(threeNets);
    const forwards = dotEdges(g).filter((e) => e.classes.includes('forward'));
    expect(forwards).toHaveLength(1);
    const f = forwards[0]!;
    expect([f.from, f.to]).toEqual(['outside', 'guest/192.168.124.10']);
    const t = await runCli([
      'trace',
      ...threeNets,
      ...threeNetsGuests,
      '--from',
      'outside',
      '--to',
      '10.0.2.15',
      '--dport',
      '8080',
      '--format',
      'json',
    ]);
    const j = JSON.parse(t.stdout) as {
      verdict: string;
      packet: { dst: string; dport: number };
      translated: { dst: string; dport: number };
      reply: { verdict: string };
    };
    expect(j.verdict).toBe('delivered');
    expect(j.reply.verdict).toBe('delivered');
    const dnatLine =
      read(seed('lab-host.save'))
        .split('\n')
        .findIndex((l) => l.includes('-j DNAT')) + 1;
    expect(f.lines).toEqual([
      `outside → 192.168.124.10: port forward tcp/${j.packet.dport} → ${j.translated.dst}:${j.translated.dport}`,
      `(NAT dst ${j.packet.dst}:${j.packet.dport} → ${j.translated.dst}:${j.translated.dport})`,
      `(DNAT rule at line ${dnatLine})`,
    ]);
  });

  it('mermaid: the same nodes and arrows, labels decoded back', async () => {
    const g = await dotOf(threeNets);
    const r = await runCli(['diagram', ...threeNets, '--format', 'mermaid']);
    expect(r.code).toBe(0);
    const decode = (s: string): string[] =>
      s.split('<br/>').map((x) =>
        x
          .replace(/#quot;/g, '"')
          .replace(/#lt;/g, '<')
          .replace(/#gt;/g, '>')
          .replace(/#124;/g, '|')
          .replace(/#amp;/g, '&')
          .replace(/#35;/g, '#'),
      );
    const nodes = new Map<string, string[]>();
    for (const m of r.stdout.matchAll(/^\s+(n\d+)(?:\(\[|\[\[|\[)"([^"]*)"/gm)) nodes.set(m[1]!, decode(m[2]!));
    expect(nodes.size).toBe(g.nodes.size);
    const title = new Map([...nodes].map(([id, lines]) => [id, lines[0]!]));
    const links = [...r.stdout.matchAll(/^\s+(n\d+) (<?[-=.]+>?)(?:\|"([^"]*)"\|)? (n\d+)$/gm)].map((m) => ({
      from: title.get(m[1]!)!,
      to: title.get(m[4]!)!,
      lines: m[3] ? decode(m[3]) : [],
    }));
    expect(links).toHaveLength(dotEdges(g).length);
    const dotTitle = (id: string): string => labelLines(g.nodes.get(id)!.attrs.label!)[0]!;
    // Endpoints unordered: Mermaid has no tail-only arrowhead, so such an arrow is written reversed.
    const pair = (a: string, b: string): string => [a, b].sort().join(' ');
    expect(links.map((l) => `${pair(l.from, l.to)} ${l.lines.join('|')}`).sort()).toEqual(
      dotEdges(g)
        .map((e) => `${pair(dotTitle(e.from), dotTitle(e.to))} ${e.lines.filter((x) => x !== '').join('|')}`)
        .sort(),
    );
    // Arrowheads where connections can start: the back-only arrow (natted → default) points at default-vm.
    const back = [...r.stdout.matchAll(/^\s+(n\d+) (==>)\|"(default-vm → natted-vm: —[^"]*)"\| (n\d+)$/gm)];
    expect(back.map((m) => `${title.get(m[1]!)} → ${title.get(m[4]!)}`)).toEqual(['natted-vm → default-vm']);
  });

  it('json: the same diagram as data', async () => {
    const r = await runCli(['diagram', ...threeNets, '--format', 'json']);
    const d = JSON.parse(r.stdout) as {
      family: number;
      nodes: Array<{ id: string }>;
      edges: Array<{ kind: string; from: string; to: string; flows: Array<{ services: string[] }> }>;
    };
    const g = await dotOf(threeNets);
    expect(d.family).toBe(4);
    expect(d.nodes.map((n) => n.id).sort()).toEqual([...g.nodes.keys()].sort());
    const m = await matrixOf([...threeNets, ...threeNetsGuests]);
    for (const e of d.edges.filter((x) => x.kind === 'reach')) {
      const name = (id: string): string => id.replace(/^guest\//, '');
      const ok = m.cells
        .filter((c) => c.from === name(e.from) && c.to === name(e.to) && c.state === 'ok')
        .map((c) => c.service);
      expect(e.flows[0]!.services).toEqual(m.services.filter((s) => ok.includes(s)));
    }
  });
});

// --- the seed topology file (one guest per network, the campus LAN uplink) -------------------

const topo = [seed('lab-host.save'), '--topology', join(REPO_CORPUS, 'topology', 'seed-lab.topo')];

describe('diagram of corpus/topology/seed-lab.topo', () => {
  it("vm1 on host-only, vm2 on natted behind eth0 10.3.3.50, and the dump's default network (virbr0); labels as trace --matrix", async () => {
    const g = await dotOf(topo);
    expect(labelLines(g.nodes.get('uplink/eth0')!.attrs.label!)).toEqual(['eth0', 'uplink', '10.3.3.50/24']);
    expect(labelLines(g.nodes.get('guest/vm1')!.attrs.label!)).toEqual(['vm1', '192.168.123.10']);
    expect(
      wires(dotEdges(g))
        .filter((w) => w.includes('guest/'))
        .map((x) => x.replace(/\[vnet\d+\]$/, ''))
        .sort(),
    ).toEqual(['bridge/virbr0 — guest/virbr0-vm ', 'bridge/virbr1 — guest/vm1 ', 'bridge/virbr2 — guest/vm2 ']);
    expectEdgesMatch(await matrixOf(topo), dotEdges(g));
    // The forward lands on vm2 itself (192.168.124.10): no guest added.
    expect(
      dotEdges(g)
        .filter((e) => e.classes.includes('forward'))
        .map((e) => `${e.from} ${e.to}`),
    ).toEqual(['outside guest/vm2']);
  });
});

// --- figure 1: not_even_host, a bridge without a host address -----------------------------------

const notEvenHost = [
  seed('expected-0.6.3/not_even_host.save'),
  '--net',
  seed('not_even_host.xml'),
  '--guest',
  'vm1@virbr3=192.168.200.2/24',
  '--guest',
  'vm2@virbr3=192.168.200.3/24',
  '--guest',
  'vm3@virbr3=192.168.200.4/24',
];

describe('diagram of figure 1 (not_even_host)', () => {
  it('the bridge has no host address: its wire to the host is dashed; guests reach each other only', async () => {
    const g = await dotOf(notEvenHost);
    expect(labelLines(g.nodes.get('bridge/virbr3')!.attrs.label!)).toEqual(bridgeLines(seed('not_even_host.xml')));
    const wire = g.edges.find((e) => e.from === 'host' && e.to === 'bridge/virbr3')!;
    expect(wire.attrs.style).toBe('dashed');
    const m = await matrixOf(notEvenHost);
    expectEdgesMatch(m, dotEdges(g));
    // Figure 1: the guests see each other, not the host (nor, through it, outside).
    const vm = (n: string): boolean => n.startsWith('vm');
    const withGuests = m.cells.filter((c) => vm(c.from) || vm(c.to));
    expect(withGuests.filter((c) => c.state === 'ok').every((c) => vm(c.from) && vm(c.to))).toBe(true);
    expect(withGuests.filter((c) => vm(c.from) && vm(c.to)).every((c) => c.state === 'ok')).toBe(true);
  });
});

// --- SVG: Graphviz's and the bundled layout's ------------------------------------------------------

async function svgOf(args: string[], layout: 'graphviz' | 'bundled'): Promise<{ svg: SvgDiagram; stderr: string }> {
  const r = await runCli(['diagram', ...args, '--format', 'svg', '--layout', layout]);
  expect(r.code).toBe(0);
  return { svg: readSvg(r.stdout), stderr: r.stderr };
}

function expectSvgLikeDot(s: SvgDiagram, g: DotGraph): void {
  expect([...s.nodes.keys()].sort()).toEqual([...g.nodes.keys()].sort());
  for (const [id, n] of g.nodes) expect(s.nodes.get(id)!.texts, id).toEqual(labelLines(n.attrs.label!));
  expect(s.clusters.map((c) => c.id)).toEqual(['cluster_host']);
  const norm = (edges: readonly DrawnEdge[]): string[] =>
    edges
      .map(
        (e) =>
          `${e.from}->${e.to} ${e.classes.filter((c) => c !== 'edge').join(' ')} ${e.lines.filter((x) => x !== '').join('|')}`,
      )
      .sort();
  expect(norm(svgEdges(s))).toEqual(norm(dotEdges(g)));
}

describe('svg, bundled layout (no Graphviz needed)', () => {
  for (const [name, args, matrixArgs] of [
    ['three networks', threeNets, [...threeNets, ...threeNetsGuests]],
    ['seed-lab.topo', topo, topo],
    ['not_even_host', notEvenHost, notEvenHost],
  ] as const) {
    it(`${name}: the nodes, wires and labelled arrows of the DOT, as trace --matrix says`, async () => {
      const { svg, stderr } = await svgOf([...args], 'bundled');
      expect(stderr).toBe("virtables diagram: laid out by virtables' bundled layout (--layout bundled)\n");
      const g = await dotOf([...args]);
      expectSvgLikeDot(svg, g);
      expectEdgesMatch(await matrixOf([...matrixArgs]), svgEdges(svg));
    });
  }

  it("auto falls back to it when Graphviz's dot is not installed, and says so; --layout graphviz then fails", async () => {
    const path = process.env.PATH;
    process.env.PATH = join(REPO_CORPUS, 'no-such-directory');
    try {
      const r = await runCli(['diagram', ...topo, '--format', 'svg']);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe(
        "virtables diagram: laid out by virtables' bundled layout (Graphviz's 'dot' is not installed: apt-get install graphviz for its layout)\n",
      );
      expect(readSvg(r.stdout).nodes.has('guest/vm2')).toBe(true);
      const strict = await runCli(['diagram', ...topo, '--format', 'svg', '--layout', 'graphviz']);
      expect(strict.code).toBe(2);
      expect(strict.stdout).toBe('');
      expect(strict.stderr).toContain("Graphviz's 'dot' is not installed");
      // --quiet: no note.
      expect((await runCli(['--quiet', 'diagram', ...topo, '--format', 'svg'])).stderr).toBe('');
    } finally {
      process.env.PATH = path;
    }
  });

  it('lays out without overlaps: nodes apart, arrow labels apart, everything inside the picture', async () => {
    const { svg } = await svgOf(threeNets, 'bundled');
    const num = (e: { attributes: Array<{ name: string; value: string }> }, a: string): number =>
      Number(e.attributes.find((x) => x.name === a)!.value);
    const boxOf = (g: SvgDiagram['nodes'] extends Map<string, infer T> ? T : never) => {
      const shape = g.element.children.find((c) => c.kind === 'element' && (c.name === 'rect' || c.name === 'ellipse'));
      if (!shape || shape.kind !== 'element') throw new Error('no shape');
      return shape.name === 'rect'
        ? { x: num(shape, 'x'), y: num(shape, 'y'), w: num(shape, 'width'), h: num(shape, 'height') }
        : {
            x: num(shape, 'cx') - num(shape, 'rx'),
            y: num(shape, 'cy') - num(shape, 'ry'),
            w: 2 * num(shape, 'rx'),
            h: 2 * num(shape, 'ry'),
          };
    };
    const overlap = (a: { x: number; y: number; w: number; h: number }, b: typeof a): boolean =>
      a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
    const nodes = [...svg.nodes.values()].map(boxOf);
    const labels = svg.edges
      .filter((e) => !e.classes.includes('wire'))
      .map((e) => {
        const r = e.element.children.find((c) => c.kind === 'element' && c.name === 'rect');
        if (!r || r.kind !== 'element') throw new Error('no label background');
        return { x: num(r, 'x'), y: num(r, 'y'), w: num(r, 'width'), h: num(r, 'height') };
      });
    const [vx, vy, vw, vh] = svg.root.attributes
      .find((a) => a.name === 'viewBox')!
      .value.split(' ')
      .map(Number) as [number, number, number, number];
    const all = [...nodes, ...labels];
    for (const b of all) expect(b.x >= vx && b.y >= vy && b.x + b.w <= vx + vw && b.y + b.h <= vy + vh).toBe(true);
    for (let i = 0; i < all.length; i++)
      for (let j = i + 1; j < all.length; j++) expect(overlap(all[i]!, all[j]!), `boxes ${i} and ${j}`).toBe(false);
  });
});

describeGraphviz("svg laid out by Graphviz's dot", () => {
  it('three networks: the same nodes and arrows as the DOT, labels as trace --matrix says; stderr names Graphviz', async () => {
    const { svg, stderr } = await svgOf(threeNets, 'graphviz');
    expect(stderr).toMatch(/^virtables diagram: laid out by Graphviz \(graphviz version \d+\.\d+/);
    expectSvgLikeDot(svg, await dotOf(threeNets));
    expectEdgesMatch(await matrixOf([...threeNets, ...threeNetsGuests]), svgEdges(svg));
  });

  it('auto picks Graphviz when dot is installed', async () => {
    const r = await runCli(['diagram', ...topo, '--format', 'svg']);
    expect(r.stderr).toMatch(/laid out by Graphviz/);
    expect(readSvg(r.stdout).nodes.has('guest/vm2')).toBe(true);
  });

  it('names with DOT and graphviz escapes come out literally', async () => {
    const guest = 'we"ird\\N{vm}';
    const r = await runCli([
      'diagram',
      ...topo,
      '--guest',
      `${guest}@virbr2=192.168.124.20`,
      '--format',
      'svg',
      '--layout',
      'graphviz',
    ]);
    expect(r.code).toBe(0);
    const node = [...readSvg(r.stdout).nodes.values()].find((n) => n.texts[1] === '192.168.124.20')!;
    expect(node.texts[0]).toBe(guest);
  });
});

describeCorpus('diagram of figure 4: Xen guests bridged on xenbr0 over peth0', () => {
  it('the uplink is the bridge, peth0 its port to outside; dom1 and dom2 on their vifs', async () => {
    const xen = (f: string): string => join(REPO_CORPUS, 'xen', f);
    const args = [
      join(SHARED_CORPUS, 'xen', 'captures', 'head-vif-bridge-ip', 'online-vif1.0-vif2.0.save'),
      '--net',
      xen('xend-config-bridge.sxp'),
      '--net',
      xen('domains/web.cfg'),
      '--net',
      xen('domains/db.cfg'),
      '--uplink',
      'xenbr0=10.0.0.1/24,gw=10.0.0.254,port=peth0',
    ];
    const g = await dotOf(args);
    expect(labelLines(g.nodes.get('uplink/xenbr0')!.attrs.label!)).toEqual(['xenbr0', 'uplink bridge', '10.0.0.1/24']);
    expect(wires(dotEdges(g)).sort()).toEqual([
      'outside — uplink/xenbr0 [peth0]',
      'uplink/xenbr0 — guest/dom1 [vif1.0]',
      'uplink/xenbr0 — guest/dom2 [vif2.0]',
      'uplink/xenbr0 — host',
    ]);
    expectEdgesMatch(await matrixOf(args), dotEdges(g));
  });
});

describe('diagram usage', () => {
  it('needs one dump; --layout only with svg; unknown formats refused', async () => {
    expect((await runCli(['diagram'])).code).toBe(2);
    expect((await runCli(['diagram', ...topo, '--layout', 'bundled'])).stderr).toContain(
      '--layout is for --format svg',
    );
    expect((await runCli(['diagram', ...topo, '--format', 'png'])).stderr).toContain(
      '--format must be one of dot, mermaid, svg, json',
    );
    const bad = await runCli(['diagram', seed('default.xml')]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
  });
});
