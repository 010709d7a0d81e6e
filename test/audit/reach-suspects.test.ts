// networks-can-reach-each-other traces a pair only when its source can fare unlike a stranger
// sent to the same guest. When a chain's policy stops the stranger, the sources whose own rules
// all come after that chain fare as it does: a host of 1,000 networks whose FORWARD jumps are gone
// (the policy drops everything) traced a million pairs and held 1.1 GB. The findings must be
// those of tracing every pair, with only the suspects traced.

import { describe, expect, it } from 'vitest';
import { parseSave } from '../../grammar/iptables-save.js';
import { parseNftText } from '../../grammar/nft.js';
import { simulatedContext } from '../../src/audit/run.js';
import { networksCanReachEachOther } from '../../src/audit/checks/networks-can-reach-each-other.js';
import { connects } from '../../src/sim/trace.js';
import { readNetworks } from '../../src/network/libvirt.js';
import { generateDump, generateLibvirtHost, libvirtNetworkXml } from '../bench/generate.js';

const N = 24;

/** The generator's host with libvirt's FORWARD jumps removed, the given policies, and `extra` FORWARD rules. */
function host(policies: { mangle: string; filter: string }, extra: readonly string[]): string {
  let table = '';
  return generateDump(N, 24)
    .text.split('\n')
    .flatMap((line) => {
      if (line.startsWith('*')) table = line.slice(1);
      if (line.startsWith('-A FORWARD -j LIBVIRT_FW')) return [];
      if (line === ':FORWARD ACCEPT [0:0]' && (table === 'mangle' || table === 'filter'))
        return [`:FORWARD ${policies[table]} [0:0]`];
      if (table === 'filter' && line === 'COMMIT') return [...extra, line];
      return [line];
    })
    .join('\n');
}

/**
 * libvirt's nftables host (10.4+) and a table of the user's whose forward chain has the given policy and rules: after
 * libvirt's, whose forward chains' jumps are removed, or `before` libvirt's intact chains.
 */
async function nftHost(policy: string, rules: readonly string[], before = false): Promise<string> {
  const { nft } = await generateLibvirtHost(N);
  const own = before ? nft : nft.replace(/^\t\tcounter packets 0 bytes 0 jump guest_\w+\n/gm, '');
  const user = `table inet filter {\n\tchain forward {\n\t\ttype filter hook forward priority ${before ? -10 : 10}; policy ${policy};\n${rules.map((r) => `\t\t${r}\n`).join('')}\t}\n}\n`;
  return own + user;
}

/** What the user's accepts let through in the drop-policy hosts: virbr3 toward virbr7, and 10.0.5.0/24 anywhere. */
const NET3_TO_NET7_AND_NET5_TO_ALL = [
  'net3 > net7',
  ...Array.from({ length: N }, (_, i) => i)
    .filter((i) => i !== 5)
    .map((i) => `net5 > net${i}`),
].sort();

async function judged(text: string, syntax: 'save' | 'nft' = 'save') {
  const running = Array.from({ length: N }, (_, i) => readNetworks(libvirtNetworkXml(i), `net${i}.xml`)).flat();
  const ctx = await simulatedContext(
    syntax === 'save'
      ? { dumps: [parseSave(text, { file: 'host.save' })], running, inactive: [] }
      : { dumps: [], nft: parseNftText(text, { file: 'host.nft' }), running, inactive: [] },
  );
  const [probes] = ctx.reachability();
  if (!probes) throw new Error('no simulated host');
  // Every pair traced (the check's own memo answers it again), then the check counted alone.
  const reaching = probes.subjects.flatMap((from) =>
    probes.subjects
      .filter((to) => to !== from && connects(probes.pair(from, to)))
      .map((to) => `${from.network.name} > ${to.network.name}`),
  );
  const pair = probes.pair;
  let traced = 0;
  probes.pair = (from, to) => {
    traced++;
    return pair(from, to);
  };
  const findings = networksCanReachEachOther.run(ctx);
  return {
    subjects: probes.subjects.length,
    reaching: reaching.sort(),
    found: findings.map((f) => `${f.network} > ${/to guests of (net\d+)/.exec(f.message)?.[1] ?? f.message}`).sort(),
    traced,
  };
}

describe('networks-can-reach-each-other: which pairs are traced', () => {
  it('a FORWARD policy that drops the stranger: only the sources with rules of their own in FORWARD', async () => {
    const r = await judged(
      host({ mangle: 'ACCEPT', filter: 'DROP' }, [
        '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        '-A FORWARD -i virbr3 -o virbr7 -j ACCEPT',
        '-A FORWARD -s 10.0.5.0/24 -j ACCEPT',
      ]),
    );
    expect(r.subjects).toBe(N);
    expect(r.reaching).toEqual(NET3_TO_NET7_AND_NET5_TO_ALL);
    expect(r.found).toEqual(r.reaching);
    // net5 toward every other guest, net3 toward net7: not N × (N − 1).
    expect(r.traced).toBe(N - 1 + 1);
  });

  it('a mangle FORWARD policy that drops: the filter rules after it are never met, nothing is traced', async () => {
    const r = await judged(host({ mangle: 'DROP', filter: 'ACCEPT' }, ['-A FORWARD -s 10.0.5.0/24 -j ACCEPT']));
    expect(r.reaching).toEqual([]);
    expect(r.found).toEqual([]);
    expect(r.traced).toBe(0);
  });

  it('a policy that accepts stops no stranger: every pair is traced, and every pair reaches', async () => {
    const r = await judged(host({ mangle: 'ACCEPT', filter: 'ACCEPT' }, []));
    expect(r.reaching).toHaveLength(N * (N - 1));
    expect(r.found).toEqual(r.reaching);
    expect(r.traced).toBe(N * (N - 1));
  });
});

describe('networks-can-reach-each-other on an nft host: which pairs are traced', () => {
  it("a forward chain's policy that drops the stranger: only the sources with rules of their own before it", async () => {
    const text = await nftHost('drop', [
      'ct state established,related accept',
      'iifname "virbr3" oifname "virbr7" accept',
      'ip saddr 10.0.5.0/24 accept',
    ]);
    expect(text).not.toContain('jump guest_input');
    const r = await judged(text, 'nft');
    expect(r.subjects).toBe(N);
    expect(r.reaching).toEqual(NET3_TO_NET7_AND_NET5_TO_ALL);
    expect(r.found).toEqual(r.reaching);
    expect(r.traced).toBe(N - 1 + 1);
  });

  it("a policy that drops before libvirt's chains: the sources libvirt names later are not suspects", async () => {
    const r = await judged(
      await nftHost('drop', ['iifname "virbr3" oifname "virbr7" accept', 'ip saddr 10.0.5.0/24 accept'], true),
      'nft',
    );
    // What the user's chain accepts, libvirt's guest_input rejects (an accept ends only its own base chain).
    expect(r.reaching).toEqual([]);
    expect(r.found).toEqual([]);
    // Every source has rules of its own in libvirt's guest_output, after the policy that stops the stranger.
    expect(r.traced).toBe(N - 1 + 1);
  });

  it('a policy that accepts stops no stranger: every pair is traced, and every pair reaches', async () => {
    const r = await judged(await nftHost('accept', []), 'nft');
    expect(r.reaching).toHaveLength(N * (N - 1));
    expect(r.found).toEqual(r.reaching);
    expect(r.traced).toBe(N * (N - 1));
  });

  it("libvirt's own chains: the stranger is rejected by guest_input, and the sources before it are few", async () => {
    const { nft } = await generateLibvirtHost(N);
    const r = await judged(nft, 'nft');
    expect(r.reaching).toEqual([]);
    expect(r.found).toEqual([]);
    // guest_cross names only each network toward itself, which is no pair.
    expect(r.traced).toBe(0);
  });
});
