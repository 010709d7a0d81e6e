// conflict-docker: Docker's FORWARD policy DROP against libvirt's nftables rules.
import { checkCases, AUDIT, SEED } from '../harness.js';
import { join } from 'node:path';
import { SHARED_CORPUS } from '../../helpers/env.js';

const natted = join(SEED, 'natted.xml');

checkCases('conflict-docker', {
  valid: [
    {
      name: "libvirt's iptables jumps above Docker's",
      dumps: [join(AUDIT, 'conflict-docker/docker-then-libvirt.save')],
      net: [natted],
    },
    {
      name: 'a Docker host with no virtual networks',
      dumps: [join(SHARED_CORPUS, 'real-world/configs_corny_docker__iptables-save.topos4.1')],
    },
  ],
  invalid: [
    {
      name: 'libvirt 10.4+ (nftables) under Docker',
      dumps: [join(AUDIT, 'conflict-docker/docker-only.save')],
      net: [natted],
      flavor: 'libvirt-nft',
      findings: [
        {
          network: 'natted',
          severity: 'error',
          line: 1,
          message: ['Docker stops guests of natted starting connections', 'policy to DROP'],
          fix: "accept the network's traffic in DOCKER-USER, which Docker keeps first in FORWARD: `iptables -I DOCKER-USER -i virbr2 -j ACCEPT` and `iptables -I DOCKER-USER -o virbr2 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`",
        },
      ],
    },
  ],
});
