// A small line format describing a Xen host's network set-up in one file (beside the real
// xend-config.sxp and domU configurations, which network/xen.ts reads): one `network` line, then one
// `vif` line per guest interface in the order they come online. Documented in docs/commands/compile.md.
//
//   # network-nat on eth0
//   network nat netdev=eth0
//   vif vif1.0 ip=10.0.0.5,10.0.0.6/31 bridge=xenbr0
//   vif vif2.0

import { parseCidr } from '../model/cidr.js';
import { InputError } from '../model/errors.js';
import type { XenMode, XenNetwork, XenVif } from '../model/network.js';

const MODES: readonly XenMode[] = ['bridge', 'nat', 'route'];

interface Word {
  readonly text: string;
  readonly col: number;
}

function words(line: string): Word[] {
  const out: Word[] = [];
  const re = /\S+/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push({ text: m[0], col: m.index + 1 });
  return out;
}

/** `key=value` pairs after the leading words; unknown keys are errors. */
function options(file: string, line: number, list: Word[], allowed: readonly string[]): Map<string, Word> {
  const out = new Map<string, Word>();
  for (const w of list) {
    const eq = w.text.indexOf('=');
    const key = eq < 0 ? w.text : w.text.slice(0, eq);
    if (eq < 0 || !allowed.includes(key))
      throw new InputError(
        file,
        line,
        w.col,
        `expected one of ${allowed.map((k) => `${k}=…`).join(', ')}, found '${w.text}'`,
      );
    if (out.has(key)) throw new InputError(file, line, w.col, `'${key}' given twice`);
    out.set(key, { text: w.text.slice(eq + 1), col: w.col + eq + 1 });
  }
  return out;
}

export function readXenSetup(text: string, file: string): XenNetwork {
  let network: {
    mode: XenMode;
    netdev: string;
    bridge: string | null;
    antispoof: boolean;
    name: string | null;
    line: number;
  } | null = null;
  const vifs: XenVif[] = [];
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = i + 1;
    const hash = raw.indexOf('#');
    const content = (hash < 0 ? raw : raw.slice(0, hash)).replace(/\r$/, '');
    const list = words(content);
    const head = list[0];
    if (!head) continue;
    if (head.text === 'network') {
      if (network)
        throw new InputError(
          file,
          line,
          head.col,
          `a second 'network' line (the first is at line ${network.line}); one file describes one Xen host set-up`,
        );
      const mode = list[1];
      if (!mode || !(MODES as readonly string[]).includes(mode.text))
        throw new InputError(
          file,
          line,
          mode?.col ?? content.length + 1,
          `expected the network script after 'network': bridge, nat or route${mode ? ` (found '${mode.text}')` : ''}`,
        );
      const opts = options(file, line, list.slice(2), ['netdev', 'bridge', 'antispoof', 'name']);
      const antispoof = opts.get('antispoof');
      if (antispoof && !['yes', 'no'].includes(antispoof.text))
        throw new InputError(file, line, antispoof.col, `antispoof must be yes or no (found '${antispoof.text}')`);
      network = {
        mode: mode.text as XenMode,
        netdev: opts.get('netdev')?.text ?? 'eth0',
        bridge: opts.get('bridge')?.text ?? null,
        antispoof: antispoof?.text === 'yes',
        name: opts.get('name')?.text ?? null,
        line,
      };
    } else if (head.text === 'vif') {
      if (!network) throw new InputError(file, line, head.col, "a 'vif' line before the 'network' line");
      const name = list[1];
      const m = name && /^vif(\d+)\.(\d+)$/.exec(name.text);
      if (!name || !m)
        throw new InputError(
          file,
          line,
          name?.col ?? content.length + 1,
          `expected a guest interface name vifDOMID.DEVID after 'vif'${name ? ` (found '${name.text}')` : ''}`,
        );
      const opts = options(file, line, list.slice(2), ['ip', 'bridge', 'mac']);
      const ipWord = opts.get('ip');
      const ips = ipWord ? ipWord.text.split(',') : [];
      let col = ipWord?.col ?? 0;
      for (const ip of ips) {
        if (!parseCidr(ip))
          throw new InputError(file, line, col, `bad address '${ip}' (expected ADDRESS or ADDRESS/PREFIX)`);
        col += ip.length + 1;
      }
      vifs.push({
        name: name.text,
        domid: Number(m[1]),
        devid: Number(m[2]),
        ips,
        bridge: opts.get('bridge')?.text ?? null,
        mac: opts.get('mac')?.text ?? null,
        origin: { file, pos: { line, col: head.col } },
      });
    } else {
      throw new InputError(file, line, head.col, `expected 'network' or 'vif', found '${head.text}'`);
    }
  }
  if (!network) throw new InputError(file, 1, 1, "no 'network bridge|nat|route …' line");
  const n = network;
  return {
    kind: 'xen',
    name: n.name ?? `xen-${n.mode}`,
    mode: n.mode,
    netdev: n.netdev,
    bridge: n.bridge ?? (n.mode === 'bridge' ? n.netdev : null),
    antispoof: n.antispoof,
    vifs,
    origin: { file, pos: { line: n.line, col: 1 } },
  };
}
