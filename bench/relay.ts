/**
 * Relay benchmark (issue: the hub). 100 calls relayed by a `babel-hub` process
 * (`--relay always`), each leg sending 20 ms RTP packets (50/s) in both directions.
 * Prints the hub's CPU time per forwarded packet.
 *
 * Then the relay alone (`UdpRelay` in a child process, bench/lib/relay-worker.ts) with
 * the same traffic three ways [S-4]: plain legs, SRTP legs (forwarded as they are), and
 * one SRTP and one plain leg per call (every packet decrypted or protected by the relay);
 * and last the floor, a bare Node dgram forwarder.
 *
 * Then the fan-out case [G-2]: pages of one pager and 20 members, the relay's fan-out and
 * a bare Node fan-out (one socket in, the same Buffer sent on 20 connected sockets) taking
 * turns on the same traffic (bench/lib/fanout-bench.ts); CPU per copy delivered.
 *
 *   node --import tsx bench/relay.ts [--calls 100] [--seconds 10] [--payload 80]
 *     [--fanout-pages 10] [--fanout-members 20] [--fanout-rounds 2] [--only fanout]
 *
 * Goals: under 10 us of hub CPU per forwarded packet at 100 relayed calls; the fan-out
 * within 1.1x of its floor per copy.
 */
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Text } from '../protocol/codes.ts';
import { SrtpSender } from '../protocol/srtp/index.ts';
import { parseReply } from '../protocol/text/codec.ts';
import { type FanoutResult, fanoutCase } from './lib/fanout-bench.ts';
import { LineClient, pool } from './lib/line-client.ts';
import { cpuMs, rssMb, spawnHub } from './lib/proc.ts';
import type { RelayMode, WorkerCall } from './lib/relay-worker.ts';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '10' },
    payload: { type: 'string', default: '80' },
    'fanout-pages': { type: 'string', default: '10' },
    'fanout-members': { type: 'string', default: '20' },
    'fanout-rounds': { type: 'string', default: '2' },
    only: { type: 'string', default: 'all' },
  },
});
const calls = Number(values.calls);
const seconds = Number(values.seconds);
const payloadBytes = Number(values.payload);

/** [G-2] The fan-out case: prints its figures, returns its key=value fields. */
async function fanout(): Promise<string> {
  const pages = Number(values['fanout-pages']);
  const members = Number(values['fanout-members']);
  const r: FanoutResult = await fanoutCase({
    pages,
    members,
    seconds,
    payload: payloadBytes,
    rounds: Number(values['fanout-rounds']),
  });
  const ratio = r.relayUsPerCopy / r.floorUsPerCopy;
  console.log(
    `fan-out (${pages} pages of 1 pager + ${members} members, ${r.copiesPerS.toFixed(0)} copies/s, ` +
      `${(r.delivered * 100).toFixed(1)}% delivered): relay ${r.relayUsPerCopy.toFixed(3)} us/copy, ` +
      `bare Node fan-out ${r.floorUsPerCopy.toFixed(3)} us/copy, ratio ${ratio.toFixed(2)} (goal <= 1.10)`,
  );
  return `fanout_members=${members} fanout_us_per_copy=${r.relayUsPerCopy.toFixed(3)} fanout_floor_us_per_copy=${r.floorUsPerCopy.toFixed(3)} fanout_ratio=${ratio.toFixed(2)}`;
}

if (values.only === 'fanout') {
  const fields = await fanout();
  console.log(
    `load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(fields);
  process.exit(0);
}

const hub = await spawnHub(['--relay', 'always', '--ring-timeout', '60']);
const pid = hub.child.pid!;

interface Leg {
  text: LineClient;
  udp: dgram.Socket;
  target: { ip: string; port: number } | null;
  received: number;
}

/** Where a `106 <peer> <ip> <port>` line says to send media [T-9]; null for other lines. */
function mediaTarget(line: string): { ip: string; port: number } | null {
  const reply = parseReply(line);
  if (reply?.code !== Text.MEDIA) return null;
  const [, ip, port] = reply.args;
  return ip && port ? { ip, port: Number(port) } : null;
}

const legs: Leg[] = [];
await pool(
  Array.from({ length: calls * 2 }, (_, i) => i),
  20,
  async (i) => {
    const udp = dgram.createSocket('udp4');
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    const text = await LineClient.connect(hub.textPort);
    await text.request(`NEW r${i}`);
    const reply = await text.request(`CONNECT r${i} ${udp.address().port}`);
    if (!reply.startsWith(`${Text.CONNECTED} `)) throw new Error(reply);
    const leg: Leg = { text, udp, target: null, received: 0 };
    udp.on('message', () => {
      leg.received++;
    });
    legs[i] = leg;
  },
);

// Set up the calls and collect each leg's relay address from its 106.
await pool(
  Array.from({ length: calls }, (_, c) => c),
  10,
  async (c) => {
    const caller = legs[2 * c]!;
    const callee = legs[2 * c + 1]!;
    const rang = new Promise<void>((resolve) => {
      callee.text.onLine = (line) => {
        if (line.startsWith(`${Text.RINGING} `)) resolve();
      };
    });
    const callerStarted = new Promise<void>((resolve) => {
      caller.text.onLine = (line) => {
        const target = mediaTarget(line);
        if (target) {
          caller.target = target;
          resolve();
        }
      };
    });
    caller.text.send(`CALL r${2 * c + 1}`);
    await rang;
    const accepted = await callee.text.request(`ACCEPT r${2 * c}`);
    callee.target = mediaTarget(accepted);
    if (!callee.target) throw new Error(accepted);
    await callerStarted;
  },
);
console.log(
  `${calls} relayed calls up; hub RSS ${rssMb(pid).toFixed(1)} MB; streaming ${seconds} s`,
);

/** One sending and receiving end; `protect` is set for an SRTP leg's device. */
interface End {
  udp: dgram.Socket;
  target: { ip: string; port: number } | null;
  received: number;
  protect?: ((rtp: Buffer) => Buffer) | null;
}

/** Streams 20 ms RTP both ways on every leg; returns packets received during the window. */
async function stream(
  ends: End[],
  cpu: () => Promise<number>,
): Promise<{ received: number; cpuMs: number; elapsedS: number }> {
  const packet = Buffer.alloc(12 + payloadBytes);
  packet[0] = 0x80;
  packet[1] = 111;
  let seq = 0;
  const timer = setInterval(() => {
    packet.writeUInt16BE(seq++ & 0xffff, 2);
    for (const end of ends) {
      if (!end.target) continue;
      end.udp.send(end.protect ? end.protect(packet) : packet, end.target.port, end.target.ip);
    }
  }, 20);
  await new Promise((r) => setTimeout(r, 1000)); // warm-up: latching, JIT
  for (const end of ends) end.received = 0;
  const cpu0 = await cpu();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu1 = await cpu();
  const elapsedS = (performance.now() - t0) / 1000;
  clearInterval(timer);
  return { received: ends.reduce((n, e) => n + e.received, 0), cpuMs: cpu1 - cpu0, elapsedS };
}

const relayRun = await stream(legs, async () => cpuMs(pid));
const relayUs = (relayRun.cpuMs * 1000) / Math.max(1, relayRun.received);
const relayRss = rssMb(pid);
console.log(
  `relay: forwarded ${relayRun.received} packets in ${relayRun.elapsedS.toFixed(1)} s (${(relayRun.received / relayRun.elapsedS).toFixed(0)}/s), hub CPU ${relayRun.cpuMs.toFixed(0)} ms, ${relayUs.toFixed(2)} us/packet`,
);
for (const leg of legs) {
  leg.text.close();
  leg.udp.close();
}
await hub.stop();

// The relay alone, in a child process: plain, SRTP as is, and translated [S-4].
const worker = fork(path.join(import.meta.dirname, 'lib/relay-worker.ts'), [], {
  execArgv: ['--import', 'tsx'],
});
async function ask<T>(msg: object): Promise<T> {
  const reply = once(worker, 'message');
  worker.send(msg);
  return (await reply)[0] as T;
}
async function relayAlone(
  mode: RelayMode,
): Promise<{ us: number; translated: number; authFailed: number }> {
  const { calls: setup } = await ask<{ calls: WorkerCall[] }>({ setup: { calls, mode } });
  const legs = setup.flatMap((c) => [
    { port: c.portA, keys: c.keysA },
    { port: c.portB, keys: c.keysB },
  ]);
  const ends: End[] = await Promise.all(
    legs.map(async ({ port, keys }) => {
      const udp = dgram.createSocket('udp4');
      udp.bind(0, '127.0.0.1');
      await once(udp, 'listening');
      const tx = keys ? new SrtpSender(keys.send) : null;
      const end: End = {
        udp,
        target: { ip: '127.0.0.1', port },
        received: 0,
        protect: tx ? (p) => tx.protect(p) : null,
      };
      udp.on('message', () => {
        end.received++;
      });
      return end;
    }),
  );
  const before = await ask<{ stats: { translated: number; srtpAuthFailed: number } }>({
    start: true,
  });
  const run = await stream(ends, async () => (await ask<{ cpu: number }>({ start: true })).cpu);
  const after = await ask<{ stats: { translated: number; srtpAuthFailed: number } }>({
    start: true,
  });
  for (const e of ends) e.udp.close();
  return {
    us: (run.cpuMs * 1000) / Math.max(1, run.received),
    translated: after.stats.translated - before.stats.translated,
    authFailed: after.stats.srtpAuthFailed - before.stats.srtpAuthFailed,
  };
}
const alonePlain = await relayAlone('plain');
const aloneSrtp = await relayAlone('srtp');
const aloneTranslate = await relayAlone('translate');
worker.send({ stop: true });
console.log(
  `relay alone (UdpRelay in a child process): plain ${alonePlain.us.toFixed(2)} us/packet; ` +
    `SRTP<->SRTP as is ${aloneSrtp.us.toFixed(2)} us/packet; ` +
    `SRTP<->plain translated ${aloneTranslate.us.toFixed(2)} us/packet ` +
    `(${aloneTranslate.translated} packets translated, ` +
    `${aloneSrtp.authFailed + aloneTranslate.authFailed} failed authentication)`,
);

// The floor: a bare Node forwarder (one connected socket pair per call, no checks).
const floor = fork(path.join(import.meta.dirname, 'lib/udp-forwarder.ts'), [String(calls)], {
  execArgv: ['--import', 'tsx'],
});
const [floorPorts] = (await once(floor, 'message')) as [Array<[number, number]>];
const ends = await Promise.all(
  Array.from({ length: calls * 2 }, async (_, i) => {
    const udp = dgram.createSocket('udp4');
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    const pair = floorPorts[Math.floor(i / 2)]!;
    const end = {
      udp,
      target: { ip: '127.0.0.1', port: i % 2 === 0 ? pair[0] : pair[1] },
      received: 0,
    };
    udp.on('message', () => {
      end.received++;
    });
    return end;
  }),
);
const peers: Array<[number, number]> = [];
for (let c = 0; c < calls; c++)
  peers.push([ends[2 * c]!.udp.address().port, ends[2 * c + 1]!.udp.address().port]);
floor.send({ peers });
await once(floor, 'message');
const askCpu = async () => {
  const reply = once(floor, 'message');
  floor.send({ start: true });
  return ((await reply)[0] as { cpu: number }).cpu;
};
const floorRun = await stream(ends, askCpu);
floor.send({ stop: true });
const floorUs = (floorRun.cpuMs * 1000) / Math.max(1, floorRun.received);
console.log(`floor (bare Node dgram forwarder): ${floorUs.toFixed(2)} us/packet`);
for (const e of ends) e.udp.close();

const fanoutFields = await fanout();
console.log(
  `load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log(
  `calls=${calls} pps=${(relayRun.received / relayRun.elapsedS).toFixed(0)} cpu_us_per_packet=${relayUs.toFixed(2)} floor_us_per_packet=${floorUs.toFixed(2)} rss_mb=${relayRss.toFixed(1)} ` +
    `alone_plain_us_per_packet=${alonePlain.us.toFixed(2)} srtp_us_per_packet=${aloneSrtp.us.toFixed(2)} translate_us_per_packet=${aloneTranslate.us.toFixed(2)} ${fanoutFields}`,
);
