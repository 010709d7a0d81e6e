// Reading network definitions: libvirt XML, a Xen set-up file, or a Xen host's xend-config.sxp
// with its domU configurations. The one reader of network files for commands (`--net`),
// topology files (`network FILE`) and lab sheets and answers alike, so a file reads the same
// wherever it is named.

import type { ReadBytes } from './disk.js';
import { UsageError } from '../model/errors.js';
import { pushAll } from '../model/lists.js';
import type { AnyNetwork } from '../model/network.js';
import { decodeText, firstContentLine } from '../model/text.js';
import { readNetworks } from '../network/libvirt.js';
import { inputKind, readXenNetwork, type XenSource } from '../network/xen.js';
import { readXenSetup } from '../network/xen-setup.js';

/** The one-file Xen set-up format starts with a `network …` or `vif vifD.N …` line (domU configs say `vif = [`). */
const XEN_SETUP = /^(?:network\s+\S|vif\s+[^\s=])/;

export interface NetworkReadOptions {
  /** Names the command (or file) in usage errors. */
  readonly command?: string;
  /** The domain ids of the domU configurations, in order (default 1, 2, …). */
  readonly domids?: readonly number[] | null;
}

/**
 * Reads network definitions in order: libvirt XML and Xen set-up files give networks as they
 * come; a xend-config.sxp and domU configurations together make one Xen network, placed
 * where the first of them was given.
 */
export function readNetworkFiles(
  files: readonly string[],
  read: ReadBytes,
  options: NetworkReadOptions = {},
): AnyNetwork[] {
  const command = options.command ?? 'virtables';
  const out: Array<AnyNetwork | 'xen-host'> = [];
  let xend: XenSource | null = null;
  const domains: XenSource[] = [];
  for (const file of files) {
    const text = decodeText(file, read(file));
    if (XEN_SETUP.test(firstContentLine(text))) {
      out.push(readXenSetup(text, file));
      continue;
    }
    const kind = inputKind(text);
    if (kind === 'xml') {
      pushAll(out, readNetworks(text, file));
      continue;
    }
    if (!out.includes('xen-host')) out.push('xen-host');
    if (kind === 'xend') {
      if (xend)
        throw new UsageError(
          `${command}: two Xen host configurations (${xend.file} and ${file}); give one xend-config.sxp`,
        );
      xend = { text, file };
    } else {
      const domid = options.domids?.[domains.length];
      domains.push({ text, file, ...(domid === undefined ? {} : { domid }) });
    }
  }
  if (options.domids && options.domids.length !== domains.length)
    throw new UsageError(
      `${command}: --domids gives ${options.domids.length} domain id(s) for ${domains.length} domU configuration(s)`,
    );
  return out.map((n) => (n === 'xen-host' ? readXenNetwork(xend, domains) : n));
}
