// Xen's network set-up → XenNetwork: which network script the host runs (xend-config.sxp
// `network-script` / `vif-script` with their KEY=VALUE arguments) and the guests' vifs (the
// `vif = [ … ]` line of each domU configuration), with the scripts' own defaults filled in,
// so that an engine can derive the rules the scripts install (research/xen.md).

import { match } from 'ts-pattern';
import { parseDomainConfig, parseSxp, type CfgValue, type Sexp } from '../../grammar/xen-config.js';
import { parseCidr } from '../model/cidr.js';
import type { SourcePos } from '../model/dump.js';
import { InputError } from '../model/errors.js';
import { firstContentLine } from '../model/text.js';
import type { XenMode, XenNetwork, XenVif } from '../model/network.js';

export interface XenSource {
  readonly text: string;
  readonly file: string;
  /** The domain id the guest runs as, when known (default: its place in the list, from 1). */
  readonly domid?: number;
}

/** What xend-config.sxp says about networking. */
export interface XendSettings {
  /** null when no script sets the network up (network-dummy, or no entry: xend's default). */
  readonly networkScript: {
    readonly mode: XenMode;
    readonly args: Readonly<Record<string, string>>;
    readonly pos: SourcePos;
  } | null;
  readonly vifScript: {
    readonly mode: XenMode;
    readonly args: Readonly<Record<string, string>>;
    readonly pos: SourcePos;
  } | null;
  readonly file: string;
}

const NETWORK_SCRIPTS: Readonly<Record<string, XenMode | null>> = {
  'network-bridge': 'bridge',
  'network-nat': 'nat',
  'network-route': 'route',
  'network-dummy': null,
  true: null,
};
const VIF_SCRIPTS: Readonly<Record<string, XenMode>> = {
  'vif-bridge': 'bridge',
  'vif-nat': 'nat',
  'vif-route': 'route',
};

function fail(file: string, pos: SourcePos, message: string): never {
  throw new InputError(file, pos.line, pos.col, message);
}

/** `'network-bridge netdev=eth1 bridge=xenbr1'` → the script's base name and its arguments. */
function scriptCall(file: string, value: Sexp): { name: string; args: Record<string, string> } {
  if (value.kind !== 'atom') fail(file, value.pos, 'expected a script name, found a list');
  const [command = '', ...words] = value.text.trim().split(/\s+/);
  const args: Record<string, string> = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) fail(file, value.pos, `script argument '${word}' is not KEY=VALUE`);
    args[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return { name: command.slice(command.lastIndexOf('/') + 1), args };
}

export function readXendConfig(text: string, file: string): XendSettings {
  const entries = parseSxp(text, file);
  // xend takes the first entry of a name (sxp.child_value).
  const entry = (name: string) => entries.find((e) => e.items[0]?.kind === 'atom' && e.items[0].text === name);

  let networkScript: XendSettings['networkScript'] = null;
  const network = entry('network-script');
  if (network) {
    const value = network.items[1];
    if (!value) fail(file, network.pos, '(network-script) names no script');
    const call = scriptCall(file, value);
    const mode = NETWORK_SCRIPTS[call.name];
    if (mode === undefined)
      fail(
        file,
        value.pos,
        `unknown network-script '${call.name}' (expected network-bridge, network-nat, network-route or network-dummy)`,
      );
    if (mode !== null) networkScript = { mode, args: call.args, pos: network.pos };
  }

  let vifScript: XendSettings['vifScript'] = null;
  const vif = entry('vif-script');
  if (vif) {
    const value = vif.items[1];
    if (!value) fail(file, vif.pos, '(vif-script) names no script');
    const call = scriptCall(file, value);
    const mode = VIF_SCRIPTS[call.name];
    if (mode === undefined)
      fail(file, value.pos, `unknown vif-script '${call.name}' (expected vif-bridge, vif-nat or vif-route)`);
    if (networkScript && networkScript.mode !== mode) {
      fail(
        file,
        value.pos,
        `vif-script '${call.name}' does not go with network-script 'network-${networkScript.mode}' (Xen pairs network-${networkScript.mode} with vif-${networkScript.mode})`,
      );
    }
    vifScript = { mode, args: call.args, pos: vif.pos };
  }
  return { networkScript, vifScript, file };
}

// ---------------------------------------------------------------------------------------------
// domU vifs

/** The vifs of one domain configuration; `domid` is the domain id the guest runs as. */
export function readDomainVifs(
  text: string,
  file: string,
  domid: number,
  mode: XenMode,
  defaultBridge: string | null,
): XenVif[] {
  const vifLine = parseDomainConfig(text, file).find((a) => a.key === 'vif');
  if (!vifLine) return [];
  if (vifLine.value.kind !== 'list') fail(file, vifLine.value.pos, "vif must be a list: vif = [ 'bridge=xenbr0', … ]");
  return vifLine.value.items.map((spec, devid) => readVif(file, spec, domid, devid, mode, defaultBridge));
}

function readVif(
  file: string,
  spec: CfgValue,
  domid: number,
  devid: number,
  mode: XenMode,
  defaultBridge: string | null,
): XenVif {
  if (spec.kind !== 'string')
    fail(file, spec.pos, "each vif is a quoted string of KEY=VALUE settings, e.g. 'ip=10.0.0.1, bridge=xenbr0'");
  const settings: Record<string, string> = {};
  for (const part of spec.text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) fail(file, spec.pos, `vif setting '${item}' is not KEY=VALUE`);
    settings[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  const ips = (settings.ip ?? '').split(/\s+/).filter((ip) => ip !== '');
  for (const ip of ips) {
    if (!parseCidr(ip)) fail(file, spec.pos, `bad address '${ip}' in vif ip= (expected ADDRESS or ADDRESS/PREFIX)`);
  }
  const mac = settings.mac ?? null;
  if (mac !== null && !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac))
    fail(file, spec.pos, `bad MAC address '${mac}' in vif mac=`);
  // vif-nat's own default when the guest is given no address: 10.<domid/256>.<domid%256>.<devid+1>/16.
  if (ips.length === 0 && mode === 'nat') ips.push(`10.${domid >> 8}.${domid & 255}.${devid + 1}/16`);
  return {
    name: settings.vifname ?? `vif${domid}.${devid}`,
    domid,
    devid,
    ips,
    bridge: mode === 'bridge' ? (settings.bridge ?? defaultBridge) : null,
    mac,
    origin: { file, pos: spec.pos },
  };
}

// ---------------------------------------------------------------------------------------------
// The host's Xen network

/**
 * One host's Xen network: its xend-config.sxp (null: Xen's defaults, vif-bridge without a
 * network script) and its guests' configurations, which run as domains 1, 2, … in the order
 * given (Xen numbers domains as they start; dom0 is 0).
 */
export function readXenNetwork(xend: XenSource | null, domains: readonly XenSource[]): XenNetwork {
  const settings = xend ? readXendConfig(xend.text, xend.file) : null;
  const mode: XenMode = settings?.networkScript?.mode ?? settings?.vifScript?.mode ?? 'bridge';
  const args = { ...(settings?.vifScript?.args ?? {}), ...(settings?.networkScript?.args ?? {}) };
  const netdev = args.netdev ?? 'eth0';
  // network-bridge's default bridge depends on the Xen release (xenbr0 before 3.2, the netdev's
  // name after); only an explicit bridge= is certain.
  const bridge =
    mode === 'bridge' ? (settings?.networkScript?.args.bridge ?? settings?.vifScript?.args.bridge ?? null) : null;
  const vifs = domains.flatMap((d, i) => readDomainVifs(d.text, d.file, d.domid ?? i + 1, mode, bridge));
  const originFile = xend?.file ?? domains[0]?.file ?? '-';
  const originPos = settings?.networkScript?.pos ?? settings?.vifScript?.pos ?? { line: 1, col: 1 };
  return {
    kind: 'xen',
    name: match(mode)
      .with('bridge', () => bridge ?? 'xen-bridge')
      .with('nat', () => 'xen-nat')
      .with('route', () => 'xen-route')
      .exhaustive(),
    mode,
    netdev,
    bridge,
    antispoof: mode === 'bridge' && settings?.networkScript?.args.antispoof === 'yes',
    vifs,
    origin: { file: originFile, pos: originPos },
  };
}

/** Which kind of input a text is, from its first significant character. */
export function inputKind(text: string): 'xml' | 'xend' | 'domain' {
  const significant = firstContentLine(text.replace(/^\ufeff/, ''));
  if (significant === '' || significant.startsWith('<')) return 'xml';
  if (significant.startsWith('(')) return 'xend';
  return 'domain';
}
