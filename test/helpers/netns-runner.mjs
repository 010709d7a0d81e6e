// The kernel oracle's driver, run as `unshare --net --mount node netns-runner.mjs` so that
// every namespace, bridge and rule it creates lives and dies inside a private network and
// mount namespace (/run/netns is a private tmpfs there). Reads a plan (JSON) on stdin,
// prints what the kernel did (JSON) on stdout.

import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const plan = JSON.parse(
  await new Promise((res) => {
    let s = '';
    process.stdin.on('data', (d) => (s += d));
    process.stdin.on('end', () => res(s));
  }),
);

function sh(script, input) {
  const r = spawnSync('sh', ['-ec', script], { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`setup failed (${r.status}): ${r.stderr.trim()}\n--- script ---\n${script}`);
  return r.stdout;
}

function startAgent(ns) {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, join(here, 'netns-agent.mjs')], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.on('exit', (code) => {
    for (const res of pending.values())
      res({ op: 'result', outcome: 'agent-exited', code: `${code}: ${stderr.trim()}` });
    for (const res of control.splice(0)) res({ op: 'failed', error: `agent exited (${code}): ${stderr.trim()}` });
  });
  const control = [];
  const pending = new Map();
  const rl = createInterface({ input: child.stdout });
  rl.on('line', (line) => {
    const msg = JSON.parse(line);
    if (msg.op === 'result') pending.get(msg.id)?.(msg);
    else control.shift()?.(msg);
  });
  const send = (o) => child.stdin.write(JSON.stringify(o) + '\n');
  return {
    ns,
    child,
    send,
    control: () => new Promise((res) => control.push(res)),
    probe: (p) =>
      new Promise((res) => {
        pending.set(p.id, res);
        send({ op: 'probe', probe: p });
      }),
  };
}

const output = { results: {}, conntrack: {}, listings: {} };
const agents = new Map();
// Never outlive the test: whatever happens, stop the agents and answer.
const deadlineMs = plan.deadlineMs ?? 60_000;
const deadline = setTimeout(() => finish(`runner deadline (${deadlineMs / 1000} s) passed`), deadlineMs);
function finish(error) {
  if (error) output.error = error;
  for (const agent of agents.values()) agent.child.kill('SIGKILL');
  clearTimeout(deadline);
  process.stdout.write(JSON.stringify(output), () => process.exit(0));
}
try {
  sh(['mount --make-rprivate /', 'mkdir -p /run/netns', 'mount -t tmpfs tmpfs /run/netns', ...plan.setup].join('\n'));
  // What rules refer to (ipsets) exists before they are loaded.
  for (const pre of plan.preloads ?? []) sh(`ip netns exec ${plan.hostNs} ${pre.command}`, pre.text);
  if (plan.dump) sh(`ip netns exec ${plan.hostNs} ${plan.dumpTool ?? 'iptables-legacy-restore'}`, plan.dump);
  for (const load of plan.loads ?? []) sh(`ip netns exec ${plan.hostNs} ${load.command}`, load.text);
  output.listings = {};
  for (const [name, command] of Object.entries(plan.listings ?? {}))
    output.listings[name] = sh(`ip netns exec ${plan.hostNs} ${command}`);
  if (plan.afterDump.length > 0) sh(plan.afterDump.join('\n'));

  for (const a of plan.agents) agents.set(a.ns, startAgent(a.ns));
  await Promise.all(
    plan.agents.map(async (a) => {
      const agent = agents.get(a.ns);
      const reply = agent.control();
      agent.send({ op: 'listen', tcp: a.tcp, udp: a.udp, any: a.any, addresses: a.addresses });
      const msg = await reply;
      if (msg.op !== 'listening') throw new Error(`agent in ${a.ns}: ${msg.error}`);
    }),
  );

  const send = (p) =>
    agents
      .get(p.ns)
      .probe(p)
      .then((r) => {
        // A retry that cannot take its port back keeps the first answer.
        if (r.outcome === 'error' && r.code === 'EADDRINUSE' && output.results[p.id]) return;
        output.results[p.id] = { outcome: r.outcome, code: r.code ?? null, detail: r.detail ?? null };
      });
  await Promise.all(plan.probes.map(send));
  // A loaded machine can be slower than a probe's timeout: what timed out is asked once more with
  // a longer one. A packet the kernel drops times out again; one it delivers now gets its answer.
  const slow = plan.probes.filter((p) => output.results[p.id].outcome === 'timeout');
  await Promise.all(slow.map((p) => send({ ...p, timeoutMs: Math.max(p.timeoutMs * 4, 3000) })));

  for (const ns of plan.conntrackNs) output.conntrack[ns] = sh(`ip netns exec ${ns} cat /proc/net/nf_conntrack`);
  finish(null);
} catch (e) {
  finish(String(e.stack ?? e));
}
