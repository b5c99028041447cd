/**
 * Hub signaling benchmark (issue: the hub). 2,000 text clients connected at once; calls
 * set up and torn down at a steady rate. Measures call-setup time from `CALL` sent to
 * `105` received by the callee, the hub's RSS, and the hub's CPU time per call.
 *
 *   node --import tsx bench/hub-signaling.ts [--clients 2000] [--rate 200] [--seconds 20]
 *
 * Goal: p99 under 5 ms at 200 call setups/s with 2,000 clients, RSS under 150 MB.
 */
import { parseArgs } from 'node:util';
import { Text } from '../protocol/codes.ts';
import { LineClient, pool } from './lib/line-client.ts';
import { cpuMs, percentile, rssMb, spawnHub } from './lib/proc.ts';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '2000' },
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '20' },
  },
});
const clients = Number(values.clients);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const pairs = Math.floor(clients / 2);

const hub = await spawnHub(['--ring-timeout', '60']);
const pid = hub.child.pid!;
console.log(`hub pid ${pid}, text port ${hub.textPort}; connecting ${clients} clients`);

const conns: LineClient[] = [];
await pool(
  Array.from({ length: clients }, (_, i) => i),
  50,
  async (i) => {
    const c = await LineClient.connect(hub.textPort);
    const name = `u${i}`;
    const created = await c.request(`NEW ${name}`);
    if (!created.startsWith(`${Text.CREATED} `)) throw new Error(created);
    const connected = await c.request(`CONNECT ${name} ${20000 + i}`);
    if (!connected.startsWith(`${Text.CONNECTED} `)) throw new Error(connected);
    conns[i] = c;
  },
);
console.log(`${clients} clients connected; hub RSS ${rssMb(pid).toFixed(1)} MB`);

// Pair i: caller u(2i) calls callee u(2i+1); the callee declines as soon as it rings.
const setupMs: number[] = [];
const busy = new Array<boolean>(pairs).fill(false);
let completed = 0;
let refused = 0;
for (let p = 0; p < pairs; p++) {
  const caller = conns[2 * p]!;
  const callee = conns[2 * p + 1]!;
  let sentAt = 0;
  callee.onLine = (line) => {
    if (line.startsWith(`${Text.RINGING} `)) {
      setupMs.push(performance.now() - sentAt);
      callee.send(`HANGUP u${2 * p}`);
    }
  };
  caller.onLine = (line) => {
    if (line.startsWith(`${Text.CALL_REFUSED} `)) {
      refused++;
      busy[p] = false;
    } else if (line.startsWith(`${Text.ENDED} `)) {
      completed++;
      busy[p] = false;
    }
  };
  (caller as LineClient & { place?: () => void }).place = () => {
    busy[p] = true;
    sentAt = performance.now();
    caller.send(`CALL u${2 * p + 1}`);
  };
}

const cpuBefore = cpuMs(pid);
const total = rate * seconds;
const intervalMs = 1000 / rate;
const start = performance.now();
let placed = 0;
let skipped = 0;
let peakRss = 0;
await new Promise<void>((resolve) => {
  const tick = () => {
    const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
    while (placed < due) {
      const p = placed % pairs;
      if (busy[p]) skipped++;
      else (conns[2 * p] as LineClient & { place: () => void }).place();
      placed++;
    }
    if (placed % rate === 0) peakRss = Math.max(peakRss, rssMb(pid));
    if (placed >= total) resolve();
    else setTimeout(tick, Math.max(0, intervalMs / 2));
  };
  tick();
});
// Let the last calls finish.
const deadline = performance.now() + 5000;
while (completed + refused + skipped < total && performance.now() < deadline) {
  await new Promise((r) => setTimeout(r, 50));
}
const elapsedS = (performance.now() - start) / 1000;
const cpuUsed = cpuMs(pid) - cpuBefore;
peakRss = Math.max(peakRss, rssMb(pid));

setupMs.sort((a, b) => a - b);
const p50 = percentile(setupMs, 50);
const p99 = percentile(setupMs, 99);
console.log(
  `calls: ${completed} completed, ${refused} refused, ${skipped} skipped (pair still busy) in ${elapsedS.toFixed(1)} s`,
);
console.log(
  `call setup (CALL sent -> 105 received): p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${setupMs.at(-1)?.toFixed(2)} ms`,
);
console.log(
  `hub CPU: ${cpuUsed.toFixed(0)} ms total, ${((cpuUsed * 1000) / Math.max(1, completed)).toFixed(0)} us per call; peak RSS ${peakRss.toFixed(1)} MB`,
);
console.log(
  `clients=${clients} setup_p50_ms=${p50.toFixed(2)} setup_p99_ms=${p99.toFixed(2)} rss_mb=${peakRss.toFixed(1)} cpu_us_per_call=${((cpuUsed * 1000) / Math.max(1, completed)).toFixed(0)} calls=${completed}`,
);
for (const c of conns) c.close();
await hub.stop();
