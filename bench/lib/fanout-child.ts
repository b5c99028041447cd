/**
 * One side of bench/relay.ts's fan-out case [G-2], in a child process that reports its own
 * CPU time: `relay` is the hub's `UdpRelay.allocateFanout` (one per page), `floor` the
 * least Node's dgram can do to fan a packet out (receive on one socket, `send` the same
 * Buffer on N sockets connected to the members, no checks).
 *
 *   argv[2]: relay | floor
 * Messages: {setup: {pages: number[][]}} (each page's member ports) -> {sources: number[]};
 * {cpu: true} -> {cpu, stats}; {stop: true}.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';
import pino from 'pino';
import { UdpRelay } from '../../hub/relay/relay.ts';

function cpuMs(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

const kind = process.argv[2];
const relay = new UdpRelay({ bindHost: '127.0.0.1', log: pino({ level: 'silent' }) });

async function socket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

/** The floor: one page fanned out by hand. */
async function floorPage(memberPorts: number[]): Promise<number> {
  const source = await socket();
  const outs = await Promise.all(memberPorts.map(() => socket()));
  await Promise.all(
    outs.map(
      (o, i) => new Promise<void>((resolve) => o.connect(memberPorts[i]!, '127.0.0.1', resolve)),
    ),
  );
  source.on('message', (m) => {
    for (let i = 0; i < outs.length; i++) outs[i]!.send(m);
  });
  return source.address().port;
}

process.on(
  'message',
  async (msg: { setup?: { pages: number[][] }; cpu?: boolean; stop?: boolean }) => {
    if (msg.setup) {
      const sources: number[] = [];
      for (const [p, members] of msg.setup.pages.entries()) {
        if (kind === 'floor') sources.push(await floorPage(members));
        else {
          const device = (port: number) => ({ device: { ip: '127.0.0.1', port }, srtp: null });
          const fanout = await relay.allocateFanout(`page${p}`, device(0), members.map(device));
          sources.push(fanout.sourcePort);
        }
      }
      process.send!({ sources });
    }
    if (msg.cpu) process.send!({ cpu: cpuMs(), stats: relay.stats });
    if (msg.stop) process.exit(0);
  },
);
