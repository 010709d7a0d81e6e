// conflict-docker: Docker's chains and its FORWARD policy DROP break or bypass the networks'
// rules: anything its rules stop that a network's mode promises, guests on a host bridge once
// Docker loads br_netfilter, and the nftables backend whose ACCEPTs cannot undo an iptables DROP.

import { blockedBy, bridgedNetworks, networkLabel, policyLine } from '../conflict.js';
import { present } from '../outcomes.js';
import { defineCheck } from '../context.js';
import { fill, report, type Finding } from '../types.js';

export const conflictDocker = defineCheck({
  id: 'conflict-docker',
  severity: 'warning',
  summary: "Docker's rules or FORWARD policy stop traffic the virtual networks need",
  docs: 'docs/checks/conflict-docker.md',
  messages: {
    bridged:
      '{{network}} puts guests on a host bridge; Docker loads br_netfilter, so their bridged traffic passes the FORWARD chain, whose policy Docker set to DROP: guests lose the LAN unless something accepts it',
    acceptInDockerUser:
      "accept the network's traffic in DOCKER-USER, which Docker keeps first in FORWARD: `{{tool}} -I DOCKER-USER -i {{bridge}} -j ACCEPT` and `{{tool}} -I DOCKER-USER -o {{bridge}} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`",
    acceptBridged:
      '`iptables -I DOCKER-USER -i {{bridge}} -o {{bridge}} -j ACCEPT`, or stop iptables seeing bridged traffic: `sysctl net.bridge.bridge-nf-call-iptables=0`',
  },
  run(ctx): Finding[] {
    if (!present(ctx, 'docker')) return [];
    const out: Finding[] = blockedBy(conflictDocker, ctx, 'docker', (bridge, _probe, family) =>
      fill(conflictDocker.messages.acceptInDockerUser, { bridge, tool: family === 6 ? 'ip6tables' : 'iptables' }),
    );
    const forward = policyLine(ctx, 'filter', 'FORWARD');
    if (forward?.chain.policy !== 'DROP') return out;
    for (const n of bridgedNetworks(ctx)) {
      out.push(
        report(conflictDocker, {
          network: n.name,
          message: 'bridged',
          fix: 'acceptBridged',
          data: { network: networkLabel(n), bridge: n.bridge ?? 'br0' },
          location: forward.location ?? ctx.definitionLocation(n),
        }),
      );
    }
    return out;
  },
});
