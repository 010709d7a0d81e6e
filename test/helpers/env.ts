// Where tests find what a fresh clone may lack (the shared corpus, root + network namespaces),
// and how they skip: with a printed reason, or — under VIRTABLES_REQUIRE_ALL=1, as .ci/run
// sets — never: a missing requirement then fails the run.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REPO_CORPUS = join(REPO, 'corpus');
export const SHARED_CORPUS = resolve(process.env.VIRTABLES_SHARED_CORPUS ?? join(REPO, '..', 'shared', 'corpus'));
export const STRICT = process.env.VIRTABLES_REQUIRE_ALL === '1';

function commandExists(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export function corpusSkipReason(): string | null {
  return existsSync(SHARED_CORPUS) ? null : `shared corpus not found at ${SHARED_CORPUS} (set VIRTABLES_SHARED_CORPUS)`;
}

let kernelReason: string | null | undefined;
/** Why kernel tests cannot run here, or null when they can (root, unshare -n, iptables-legacy). */
export function kernelSkipReason(): string | null {
  if (kernelReason !== undefined) return kernelReason;
  if (process.getuid?.() !== 0) return (kernelReason = 'kernel tests need root (network namespaces)');
  for (const tool of [
    'unshare',
    'iptables-legacy-restore',
    'iptables-legacy-save',
    'ip6tables-legacy-restore',
    'iptables-nft-restore',
    'nft',
    'ip',
  ]) {
    if (!commandExists(tool))
      return (kernelReason = `kernel tests need '${tool}' (apt-get install iptables nftables iproute2)`);
  }
  try {
    execFileSync('unshare', ['-n', 'true'], { stdio: 'ignore' });
  } catch {
    return (kernelReason = "'unshare -n' is not permitted here");
  }
  return (kernelReason = null);
}

function gated(kind: string, reason: string | null, name: string, body: () => void): void {
  if (reason === null) {
    describe(name, body);
  } else if (STRICT) {
    describe(name, () => {
      it(`requires ${kind}`, () => {
        throw new Error(`VIRTABLES_REQUIRE_ALL=1 but ${reason}`);
      });
    });
  } else {
    console.warn(`[virtables] skipping "${name}": ${reason}`);
    describe.skip(name, body);
  }
}

let libvirtReason: string | null | undefined;
/** Why a real libvirtd cannot be started in a namespace here (test/kernel/live-libvirtd.sh), or null. */
export function libvirtSkipReason(): string | null {
  if (libvirtReason !== undefined) return libvirtReason;
  const kernel = kernelSkipReason();
  if (kernel) return (libvirtReason = kernel);
  for (const tool of ['libvirtd', 'virsh', 'dnsmasq', 'setpriv']) {
    if (!commandExists(tool))
      return (libvirtReason = `the libvirt tests need '${tool}' (apt-get install --no-install-recommends libvirt-daemon libvirt-clients dnsmasq-base)`);
  }
  return (libvirtReason = null);
}

/** A suite that starts the real libvirtd in a network+mount namespace. */
export function describeLibvirt(name: string, body: () => void): void {
  gated(
    'a real libvirtd (root, unshare, libvirt-daemon, libvirt-clients, dnsmasq-base)',
    libvirtSkipReason(),
    name,
    body,
  );
}

/** A suite that reads ../shared/corpus. */
export function describeCorpus(name: string, body: () => void): void {
  gated('the shared corpus', corpusSkipReason(), name, body);
}

/** A suite that runs real iptables in network namespaces (and may read the shared corpus, or need more tools). */
export function describeKernel(
  name: string,
  body: () => void,
  opts: { corpus?: boolean; tools?: readonly string[] } = {},
): void {
  const tool = (opts.tools ?? []).find((t) => !commandExists(t));
  const toolReason = tool ? `this suite needs '${tool}' (apt-get install ${tool})` : null;
  gated(
    'the kernel (root, unshare, iptables)',
    kernelSkipReason() ?? (opts.corpus ? corpusSkipReason() : null) ?? toolReason,
    name,
    body,
  );
}

/** Headless Chromium, as Debian packages it. */
export const CHROMIUM = ['chromium', 'chromium-browser', 'google-chrome'].find(commandExists) ?? null;

/** Why the HTML report cannot be opened in a browser here, or null when it can. */
export function chromiumSkipReason(): string | null {
  return CHROMIUM
    ? null
    : 'the HTML report tests need headless Chromium (apt-get install --no-install-recommends chromium)';
}

/** A suite that opens pages in headless Chromium. */
export function describeChromium(name: string, body: () => void): void {
  gated('headless Chromium', chromiumSkipReason(), name, body);
}

/** Why Graphviz's dot cannot lay diagrams out here, or null when it can. */
export function graphvizSkipReason(): string | null {
  return commandExists('dot')
    ? null
    : "the Graphviz layout tests need 'dot' (apt-get install --no-install-recommends graphviz)";
}

/** A suite that lays diagrams out with Graphviz's dot. */
export function describeGraphviz(name: string, body: () => void): void {
  gated("Graphviz's dot", graphvizSkipReason(), name, body);
}

/** Tests that run a program a fresh machine may lack (its Debian package named in the reason). */
export function describeWithTool(tool: string, pkg: string, name: string, body: () => void): void {
  gated(tool, commandExists(tool) ? null : `'${tool}' is not installed (apt-get install ${pkg})`, name, body);
}

/** Why br_netfilter cases cannot run here, or null: the module must be loaded (loading it is not a test's to do). */
export function brNetfilterSkipReason(): string | null {
  return existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables')
    ? null
    : 'br_netfilter is not loaded (modprobe br_netfilter)';
}

/** A case left out for `reason` inside a describe: said on stderr, and a failing test under VIRTABLES_REQUIRE_ALL=1. */
export function leaveOut(name: string, reason: string): void {
  if (STRICT) {
    it(`${name}: requires what is missing here`, () => {
      throw new Error(`VIRTABLES_REQUIRE_ALL=1 but ${reason}`);
    });
  } else {
    console.warn(`[virtables] skipping "${name}": ${reason}`);
  }
}
