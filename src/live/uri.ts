// Which libvirt connection URIs live mode passes to virsh: only those that make virsh run no
// program and talk to this host's own libvirt. libvirt's remote driver (src/remote/remote_driver.c)
// runs `command=` (default `ssh`) for the ssh transport and `command=` for ext; ssh, libssh and
// libssh2 run `netcat=` / virt-ssh-helper on the far side; tls and tcp reach another host, whose
// networks would be audited against this host's firewall. Parameter names are matched as libvirt
// matches them (src/util/viruri.c): percent-decoded, case-insensitively; libvirt splits at '&'
// (at ';' only when there is no '&'), here at both, which can only refuse more.

import { hasControl } from '../model/text.js';

/** Transports that start a program, here or on the far side. */
const RUNS_A_PROGRAM: Readonly<Record<string, string>> = {
  ext: 'the ext transport runs the program its command= parameter names',
  ssh: 'the ssh transport runs ssh (or its command= parameter) here and netcat or virt-ssh-helper on the far side',
  libssh: 'the libssh transport runs netcat or virt-ssh-helper (its netcat=/proxy= parameters) on the far side',
  libssh2: 'the libssh2 transport runs netcat or virt-ssh-helper (its netcat=/proxy= parameters) on the far side',
};

/** Transports that reach another host over the network. */
const REMOTE: ReadonlySet<string> = new Set(['tls', 'tcp']);

/** Parameters a local (unix socket) connection may carry: they choose a socket and run nothing. */
const LOCAL_PARAMETERS: ReadonlySet<string> = new Set(['socket', 'mode']);
const MODES: ReadonlySet<string> = new Set(['auto', 'legacy', 'direct']);

/** %XX undone, as libvirt's xmlURIUnescapeString does ('+' stays '+'). */
function decode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** Why live mode will not pass this URI to virsh, or null when it may. */
export function connectProblem(uri: string): string | null {
  if (hasControl(uri) || uri.includes('\n')) return 'contains a control character';
  const scheme = /^([A-Za-z][A-Za-z0-9._-]*)(?:\+([A-Za-z0-9._-]+))?:\/\//.exec(uri);
  if (!scheme) {
    return uri.includes(':')
      ? 'is not a libvirt URI (DRIVER[+TRANSPORT]://[HOST]/PATH, e.g. qemu:///system)'
      : 'is not a URI: an alias from libvirt.conf is not followed (it may name any transport); give the URI itself, e.g. qemu:///system';
  }
  const transport = scheme[2]?.toLowerCase() ?? null;
  if (transport !== null && transport in RUNS_A_PROGRAM)
    return `runs a program: ${RUNS_A_PROGRAM[transport]}; live runs only its read-only commands`;
  const rest = uri.slice(scheme[0].length);
  if (rest.includes('#')) return 'has a fragment (#…); libvirt URIs have none';
  const authority = rest.slice(0, rest.search(/[/?]|$/));
  if (authority !== '')
    return `names a host (${authority}): live audits this host's firewall, so its networks must come from this host's libvirt (give DRIVER:///PATH, e.g. qemu:///system)`;
  if (transport !== null && REMOTE.has(transport))
    return `uses the ${transport} transport, which reaches another host: give DRIVER:///PATH for this host's libvirt`;
  if (transport !== null && transport !== 'unix')
    return `has an unknown transport '${transport}' (this host's libvirt is reached with DRIVER:///PATH or DRIVER+unix:///PATH)`;
  const q = rest.indexOf('?');
  if (q < 0) return null;
  for (const pair of rest.slice(q + 1).split(/[&;]/)) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    if (name === null || value === null) return `has a badly escaped parameter '${pair}'`;
    const key = name.toLowerCase();
    if (!LOCAL_PARAMETERS.has(key)) {
      const runs = ['command', 'netcat', 'proxy'].includes(key) ? ' (it names a program to run)' : '';
      return `has the parameter '${name}'${runs}; a connection to this host's libvirt takes only socket= and mode=`;
    }
    if (hasControl(value) || value.includes('\n')) return `has a control character in its '${name}' parameter`;
    if (key === 'socket' && !value.startsWith('/')) return `socket=${value} is not an absolute path`;
    if (key === 'mode' && !MODES.has(value)) return `mode=${value} is not one of auto, legacy, direct`;
  }
  return null;
}

/** `uri_default` from a libvirt client configuration file (libvirt.conf), when it sets one. */
export function uriDefault(conf: string): string | null {
  let found: string | null = null;
  for (const line of conf.split(/\r\n|\r|\n/)) {
    const m = /^[ \t]*uri_default[ \t]*=[ \t]*"([^"]*)"/.exec(line);
    if (m) found = m[1]!;
  }
  return found;
}

export interface ConnectSource {
  /** The URI virsh would use, or null for its own probing. */
  readonly uri: string | null;
  /** Where it came from, for messages. */
  readonly from: string;
}

/**
 * The URI virsh would connect to, in virsh's order: --connect, LIBVIRT_DEFAULT_URI,
 * VIRSH_DEFAULT_CONNECT_URI, then uri_default in the client's libvirt.conf (/etc/libvirt for
 * root, $XDG_CONFIG_HOME/libvirt or ~/.config/libvirt otherwise). Live passes it explicitly,
 * so what was checked is what runs.
 */
export function connectSource(
  given: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  uid: number,
  readConf: (path: string) => string | null,
): ConnectSource {
  if (given !== undefined) return { uri: given, from: '--connect' };
  for (const name of ['LIBVIRT_DEFAULT_URI', 'VIRSH_DEFAULT_CONNECT_URI']) {
    const value = env[name];
    if (value !== undefined && value !== '') return { uri: value, from: name };
  }
  const conf =
    uid === 0
      ? '/etc/libvirt/libvirt.conf'
      : `${env.XDG_CONFIG_HOME || `${env.HOME ?? ''}/.config`}/libvirt/libvirt.conf`;
  const text = readConf(conf);
  const uri = text === null ? null : uriDefault(text);
  return uri === null ? { uri: null, from: 'virsh default' } : { uri, from: `uri_default in ${conf}` };
}
