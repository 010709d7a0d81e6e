// The why-sentences: one per purpose, in the network's own terms, and the ones the project
// brief quotes come out word for word.

import { describe, expect, it } from 'vitest';
import { PURPOSES, why, type Purpose } from '../../src/engine/why.js';

const natted = { network: 'natted', bridge: 'virbr2', subnet: '192.168.124.0/24', dev: null };

describe('why', () => {
  it('gives every purpose a sentence of its own', () => {
    const sentences = PURPOSES.map((p) => why(p, natted));
    for (const s of sentences) expect(s.length).toBeGreaterThan(20);
    expect(new Set(sentences).size).toBe(PURPOSES.length);
  });

  it('says what the rules of a NAT network let happen, as the brief words it', () => {
    expect(why('forward-out', natted)).toBe('guests of 192.168.124.0/24 on virbr2 may start connections to anywhere');
    expect(why('reject-in', natted)).toBe('everything else entering virbr2 is rejected');
    expect(why('masquerade', natted)).toBe(
      "guests' addresses (192.168.124.0/24) are replaced by the host's on the way out",
    );
    expect(why('related-in', natted)).toMatch(/^replies may come back in/);
  });

  it('names the forward device when traffic may only leave by it', () => {
    expect(why('forward-out', { ...natted, dev: 'enp0s7' })).toBe(
      'guests of 192.168.124.0/24 on virbr2 may start connections to anywhere via enp0s7',
    );
    expect(why('related-in', { ...natted, dev: 'enp0s7' })).toContain('from enp0s7');
  });

  it('reads without a context (rules found in dumps may lack one)', () => {
    for (const p of PURPOSES as Purpose[]) expect(why(p)).not.toMatch(/undefined|null/);
  });

  it('tells set-up jumps from chain creation', () => {
    expect(why('chain-setup', { table: 'filter', chain: 'LIBVIRT_FWX', parent: 'FORWARD' })).toBe(
      "every packet in filter FORWARD passes through libvirt's LIBVIRT_FWX chain first",
    );
    expect(why('chain-setup', { table: 'nat', chain: 'LIBVIRT_PRT' })).toBe(
      "libvirt's private chain LIBVIRT_PRT (nat table) is created once, for all networks",
    );
  });
});
