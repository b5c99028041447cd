/**
 * bench/relay.ts's fan-out case [G-2]: `pages` pages, each one pager and `members`
 * members, 20 ms RTP from every pager; the hub's relay fan-out and the bare Node floor
 * (bench/lib/fanout-child.ts) take turns on the same sockets and traffic, `rounds` times
 * each, and the CPU each spends per copy delivered is compared.
 */
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import path from 'node:path';

export interface FanoutResult {
  relayUsPerCopy: number;
  floorUsPerCopy: number;
  copiesPerS: number;
  /** Every copy the pagers' packets should have made, arrived (relay runs). */
  delivered: number;
}

async function udp(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

export async function fanoutCase(opts: {
  pages: number;
  members: number;
  seconds: number;
  payload: number;
  rounds: number;
}): Promise<FanoutResult> {
  const pagers = await Promise.all(Array.from({ length: opts.pages }, () => udp()));
  const members = await Promise.all(Array.from({ length: opts.pages * opts.members }, () => udp()));
  let received = 0;
  for (const m of members) {
    m.on('message', () => {
      received++;
    });
  }
  const memberPorts = pagers.map((_, p) =>
    members.slice(p * opts.members, (p + 1) * opts.members).map((m) => m.address().port),
  );
  const packet = Buffer.alloc(12 + opts.payload);
  packet[0] = 0x80;
  packet[1] = 111;

  async function run(kind: 'relay' | 'floor'): Promise<{ us: number; copies: number; s: number }> {
    const child = fork(path.join(import.meta.dirname, 'fanout-child.ts'), [kind], {
      execArgv: ['--import', 'tsx'],
    });
    const ask = async <T>(msg: object): Promise<T> => {
      const reply = once(child, 'message');
      child.send(msg);
      return (await reply)[0] as T;
    };
    const { sources } = await ask<{ sources: number[] }>({ setup: { pages: memberPorts } });
    let seq = 0;
    const timer = setInterval(() => {
      packet.writeUInt16BE(seq++ & 0xffff, 2);
      for (const [i, p] of pagers.entries()) p.send(packet, sources[i]!, '127.0.0.1');
    }, 20);
    await new Promise((r) => setTimeout(r, 1000)); // warm-up: latching, JIT
    received = 0;
    const cpu0 = (await ask<{ cpu: number }>({ cpu: true })).cpu;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, opts.seconds * 1000));
    const cpu1 = (await ask<{ cpu: number }>({ cpu: true })).cpu;
    const s = (performance.now() - t0) / 1000;
    const copies = received;
    clearInterval(timer);
    child.send({ stop: true });
    await once(child, 'exit');
    return { us: ((cpu1 - cpu0) * 1000) / Math.max(1, copies), copies, s };
  }

  const relayRuns: number[] = [];
  const floorRuns: number[] = [];
  let copies = 0;
  let secs = 0;
  for (let r = 0; r < opts.rounds; r++) {
    const rel = await run('relay');
    relayRuns.push(rel.us);
    copies += rel.copies;
    secs += rel.s;
    floorRuns.push((await run('floor')).us);
  }
  for (const s of [...pagers, ...members]) s.close();
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const expected = (secs / 0.02) * opts.pages * opts.members;
  return {
    relayUsPerCopy: mean(relayRuns),
    floorUsPerCopy: mean(floorRuns),
    copiesPerS: copies / secs,
    delivered: copies / expected,
  };
}
