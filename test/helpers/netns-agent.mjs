// Runs inside one network namespace of the kernel oracle (plain node, no TypeScript): it
// listens on the probed ports and answers (TCP accepts, UDP echoes), and sends probes on
// request (TCP connect, UDP datagram awaiting its echo, ping). One JSON object per line on
// stdin (commands) and stdout (results).

import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { createInterface } from 'node:readline';

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const servers = [];

function listen({ tcp = [], udp = [], any = '0.0.0.0', addresses = [any] }) {
  const pending = [];
  for (const port of tcp) {
    const s = net.createServer((sock) => {
      sock.on('error', () => {});
      setTimeout(() => sock.destroy(), 200);
    });
    pending.push(
      new Promise((res, rej) => {
        s.once('error', rej);
        s.listen({ port, host: any, backlog: 128 }, res);
      }),
    );
    servers.push(s);
  }
  // One UDP socket per local address: a reply leaves from the address the datagram came to.
  for (const port of udp) {
    for (const address of addresses) {
      const s = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
      s.on('message', (msg, rinfo) => s.send(msg, rinfo.port, rinfo.address));
      s.on('error', () => {});
      pending.push(
        new Promise((res, rej) => {
          s.once('error', rej);
          s.bind(port, address, res);
        }),
      );
      servers.push(s);
    }
  }
  return Promise.all(pending);
}

function tcpProbe(p) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome, code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ outcome, code });
    };
    const opts = { host: p.dst, port: p.dport, localPort: p.sport };
    if (p.bind) opts.localAddress = p.bind;
    const sock = net.connect(opts);
    sock.on('connect', () => finish('ok'));
    sock.on('error', (e) => finish('error', e.code));
    const timer = setTimeout(() => finish('timeout'), p.timeoutMs);
  });
}

function udpProbe(p) {
  return new Promise((resolve) => {
    const s = dgram.createSocket(p.dst.includes(':') ? 'udp6' : 'udp4');
    let done = false;
    const finish = (outcome, code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        s.close();
      } catch {
        /* already closed */
      }
      resolve({ outcome, code });
    };
    s.on('message', () => finish('ok'));
    s.on('error', (e) => finish('error', e.code));
    s.bind(p.sport, p.bind ?? undefined, () => {
      s.connect(p.dport, p.dst, (err) => {
        if (err) return finish('error', err.code);
        s.send(`probe ${p.id}`, (e) => {
          if (e) finish('error', e.code);
        });
      });
    });
    const timer = setTimeout(() => finish('timeout'), p.timeoutMs);
  });
}

const PING_ERRORS = [
  [/Port Unreachable/i, 'ECONNREFUSED'],
  [/Protocol Unreachable/i, 'ENOPROTOOPT'],
  [/Net Unreachable|Net Prohibited|Network is unreachable/i, 'ENETUNREACH'],
  [/Host Unreachable|Host Prohibited|Packet filtered|No route to host/i, 'EHOSTUNREACH'],
];

function pingProbe(p) {
  return new Promise((resolve) => {
    const args = ['-c', '1', '-n', '-W', String(p.timeoutMs / 1000), '-e', String(p.icmpId)];
    if (p.bind) args.push('-I', p.bind);
    args.push(p.dst);
    const child = spawn('ping', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('close', (code) => {
      if (code === 0) return resolve({ outcome: 'ok' });
      for (const [re, errno] of PING_ERRORS)
        if (re.test(text))
          return resolve({
            outcome: 'error',
            code: errno,
            detail: text
              .trim()
              .split('\n')
              .find((l) => re.test(l)),
          });
      resolve({ outcome: 'timeout' });
    });
  });
}

const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  const cmd = JSON.parse(line);
  if (cmd.op === 'listen') {
    try {
      await listen(cmd);
      out({ op: 'listening' });
    } catch (e) {
      out({ op: 'failed', error: String(e) });
    }
  } else if (cmd.op === 'probe') {
    const p = cmd.probe;
    const r = p.proto === 'tcp' ? await tcpProbe(p) : p.proto === 'udp' ? await udpProbe(p) : await pingProbe(p);
    out({ op: 'result', id: p.id, ...r });
  } else if (cmd.op === 'exit') {
    for (const s of servers)
      try {
        s.close();
      } catch {
        /* closing */
      }
    process.exit(0);
  }
});
