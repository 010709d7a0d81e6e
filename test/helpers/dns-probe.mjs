// One DNS question over UDP, asked from inside a network namespace by the isolated-network DNS
// test: prints the answer's RCODE (NOERROR, NXDOMAIN, REFUSED, SERVFAIL, …) and its answer
// count, or `timeout`. Usage: node dns-probe.mjs SERVER NAME
import { createSocket } from 'node:dgram';

const [server, name] = process.argv.slice(2);
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l, 'ascii')]);
// Header: id 0x5a5a, flags RD, one question; then QNAME, QTYPE A, QCLASS IN.
const query = Buffer.concat([
  Buffer.from([0x5a, 0x5a, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]),
  ...labels,
  Buffer.from([0, 0, 1, 0, 1]),
]);
const socket = createSocket('udp4');
const timer = setTimeout(() => {
  console.log('timeout');
  socket.close();
}, 4000);
socket.on('message', (msg) => {
  clearTimeout(timer);
  console.log(`${RCODES[msg[3] & 0x0f] ?? `RCODE${msg[3] & 0x0f}`} answers=${msg.readUInt16BE(6)}`);
  socket.close();
});
socket.send(query, 53, server);
