// Every check, in the order findings of equal rank are listed. One file per check, named by its id.

import type { Check } from '../context.js';
import { conflictDocker } from './conflict-docker.js';
import { conflictFirewalld } from './conflict-firewalld.js';
import { conflictUfw } from './conflict-ufw.js';
import { dnsOnIsolatedNetwork } from './dns-on-isolated-network.js';
import { duplicateBridge } from './duplicate-bridge.js';
import { forwardPolicyAcceptWithIpForward } from './forward-policy-accept-with-ip-forward.js';
import { guestReachableFromOutside } from './guest-reachable-from-outside.js';
import { hostFirewallBlocksNetwork } from './host-firewall-blocks-network.js';
import { leftoverChains } from './leftover-chains.js';
import { masqueradeMissing } from './masquerade-missing.js';
import { masqueradeTooBroad } from './masquerade-too-broad.js';
import { missingRule } from './missing-rule.js';
import { networksCanReachEachOther } from './networks-can-reach-each-other.js';
import { overlappingSubnets } from './overlapping-subnets.js';
import { portForwardNeverReachesGuest } from './port-forward-never-reaches-guest.js';
import { rulesNotInDump } from './rules-not-in-dump.js';
import { shadowedRule } from './shadowed-rule.js';
import { staleRules } from './stale-rules.js';

export const CHECKS: readonly Check[] = [
  missingRule,
  shadowedRule,
  hostFirewallBlocksNetwork,
  dnsOnIsolatedNetwork,
  guestReachableFromOutside,
  portForwardNeverReachesGuest,
  networksCanReachEachOther,
  masqueradeMissing,
  masqueradeTooBroad,
  forwardPolicyAcceptWithIpForward,
  staleRules,
  leftoverChains,
  overlappingSubnets,
  duplicateBridge,
  conflictDocker,
  conflictUfw,
  conflictFirewalld,
  rulesNotInDump,
];

export function checkById(id: string): Check | undefined {
  return CHECKS.find((c) => c.id === id);
}
