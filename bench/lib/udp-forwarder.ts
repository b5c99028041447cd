/**
 * The floor for the relay benchmark: the least work Node's dgram can do to forward a
 * packet (receive on one socket, send from another, connected). Run as a child process by
 * bench/relay.ts; it reports its own CPU time over the measured window.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';

function cpuMs(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

const pairs: Array<[dgram.Socket, dgram.Socket]> = [];
for (let i = 0; i < Number(process.argv[2]); i++) {
  const a = dgram.createSocket('udp4');
  const b = dgram.createSocket('udp4');
  a.bind(0, '127.0.0.1');
  b.bind(0, '127.0.0.1');
  await Promise.all([once(a, 'listening'), once(b, 'listening')]);
  pairs.push([a, b]);
}
process.send!(pairs.map(([a, b]) => [a.address().port, b.address().port]));
process.on(
  'message',
  (msg: { peers?: Array<[number, number]>; start?: boolean; stop?: boolean }) => {
    if (msg.peers) {
      msg.peers.forEach(([pa, pb], i) => {
        const [a, b] = pairs[i]!;
        a.connect(pa, '127.0.0.1');
        b.connect(pb, '127.0.0.1');
        a.on('message', (m) => b.send(m));
        b.on('message', (m) => a.send(m));
      });
      process.send!({ ready: true });
    }
    if (msg.start) process.send!({ cpu: cpuMs() });
    if (msg.stop) {
      process.send!({ cpu: cpuMs() });
      process.exit(0);
    }
  },
);
