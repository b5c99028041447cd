/**
 * Hub signaling benchmark (issue: the hub; issue 11 for TLS). 2,000 text clients connected
 * at once; calls set up and torn down at a steady rate. Measures call-setup time from
 * `CALL` sent to `105` received by the callee, the hub's RSS, and the hub's CPU time per
 * call. Runs twice, each with its own hub: the plaintext port, then the TLS port [S-1],
 * where it also measures the cost of a TLS handshake (the hub's CPU per client against the
 * plaintext run's connect phase, and the wall time of one handshake alone).
 *
 *   node --import tsx bench/hub-signaling.ts [--clients 2000] [--rate 200] [--seconds 20]
 *                                            [--only plain|tls]
 *
 * Goals: p99 under 5 ms at 200 call setups/s with 2,000 clients; RSS under 150 MB plain,
 * under 200 MB over TLS.
 */
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { Text } from '../protocol/codes.ts';
import { LineClient, pool } from './lib/line-client.ts';
import { cpuMs, percentile, rssMb, spawnHub } from './lib/proc.ts';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '2000' },
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '20' },
    only: { type: 'string' },
    handshakes: { type: 'string', default: '200' },
  },
});
const clients = Number(values.clients);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const pairs = Math.floor(clients / 2);

interface Figures {
  p50: number;
  p99: number;
  rss: number;
  cpuUsPerCall: number;
  calls: number;
  /** Hub CPU of connecting every client (connect, NEW, CONNECT), ms per client. */
  connectCpuMs: number;
  /** TLS only: wall time of one handshake, alone (ms, p50 and p99). */
  handshakeP50?: number;
  handshakeP99?: number;
}

/** Wall time of `n` TLS handshakes one after the other, each closed at once. */
async function handshakeWall(port: number, n: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      s.once('secureConnect', () => resolve());
      s.once('error', reject);
    });
    ms.push(performance.now() - t0);
    s.destroy();
  }
  return ms.sort((a, b) => a - b);
}

async function run(secure: boolean): Promise<Figures> {
  const label = secure ? 'tls' : 'plain';
  const hub = await spawnHub(['--ring-timeout', '60']);
  const pid = hub.child.pid!;
  const port = secure ? hub.textTlsPort : hub.textPort;
  console.log(`[${label}] hub pid ${pid}, text port ${port}; connecting ${clients} clients`);

  let handshakes: number[] = [];
  if (secure) {
    handshakes = await handshakeWall(port, Number(values.handshakes));
  }

  const conns: LineClient[] = [];
  const connectCpu0 = cpuMs(pid);
  await pool(
    Array.from({ length: clients }, (_, i) => i),
    50,
    async (i) => {
      const c = await LineClient.connect(port, secure);
      const name = `u${i}`;
      const created = await c.request(`NEW ${name}`);
      if (!created.startsWith(`${Text.CREATED} `)) throw new Error(created);
      const connected = await c.request(`CONNECT ${name} ${20000 + i}`);
      if (!connected.startsWith(`${Text.CONNECTED} `)) throw new Error(connected);
      conns[i] = c;
    },
  );
  const connectCpuMs = (cpuMs(pid) - connectCpu0) / clients;
  console.log(
    `[${label}] ${clients} clients connected; hub RSS ${rssMb(pid).toFixed(1)} MB; hub CPU ${connectCpuMs.toFixed(2)} ms per client to connect and log in`,
  );

  // Pair i: caller u(2i) calls callee u(2i+1); the callee declines as soon as it rings.
  const setupMs: number[] = [];
  const busy = new Array<boolean>(pairs).fill(false);
  const place: Array<() => void> = [];
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
    place[p] = () => {
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
        else place[p]!();
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
  const cpuUsPerCall = (cpuUsed * 1000) / Math.max(1, completed);
  console.log(
    `[${label}] calls: ${completed} completed, ${refused} refused, ${skipped} skipped (pair still busy) in ${elapsedS.toFixed(1)} s`,
  );
  console.log(
    `[${label}] call setup (CALL sent -> 105 received): p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${setupMs.at(-1)?.toFixed(2)} ms`,
  );
  console.log(
    `[${label}] hub CPU: ${cpuUsed.toFixed(0)} ms total, ${cpuUsPerCall.toFixed(0)} us per call; peak RSS ${peakRss.toFixed(1)} MB`,
  );
  for (const c of conns) c.close();
  await hub.stop();
  const figures: Figures = { p50, p99, rss: peakRss, cpuUsPerCall, calls: completed, connectCpuMs };
  if (secure) {
    figures.handshakeP50 = percentile(handshakes, 50);
    figures.handshakeP99 = percentile(handshakes, 99);
  }
  return figures;
}

const only = values.only;
const plain = only === 'tls' ? null : await run(false);
const secure = only === 'plain' ? null : await run(true);

const keys: string[] = [`clients=${clients}`];
if (plain) {
  keys.push(
    `setup_p50_ms=${plain.p50.toFixed(2)}`,
    `setup_p99_ms=${plain.p99.toFixed(2)}`,
    `rss_mb=${plain.rss.toFixed(1)}`,
    `cpu_us_per_call=${plain.cpuUsPerCall.toFixed(0)}`,
    `calls=${plain.calls}`,
  );
}
if (secure) {
  console.log(
    `[tls] one handshake alone (client and hub on this machine): p50 ${secure.handshakeP50?.toFixed(2)} ms, p99 ${secure.handshakeP99?.toFixed(2)} ms wall`,
  );
  keys.push(
    `tls_setup_p50_ms=${secure.p50.toFixed(2)}`,
    `tls_setup_p99_ms=${secure.p99.toFixed(2)}`,
    `tls_rss_mb=${secure.rss.toFixed(1)}`,
    `tls_cpu_us_per_call=${secure.cpuUsPerCall.toFixed(0)}`,
    `tls_calls=${secure.calls}`,
    `tls_handshake_wall_ms=${secure.handshakeP50?.toFixed(2)}`,
  );
  if (plain) {
    // The hub's extra CPU per client for TLS: its handshake (and the encryption of a few
    // lines), against the plaintext run's connect phase.
    const extra = secure.connectCpuMs - plain.connectCpuMs;
    console.log(
      `[tls] hub CPU per client to connect and log in: ${secure.connectCpuMs.toFixed(2)} ms over TLS, ${plain.connectCpuMs.toFixed(2)} ms plain: the handshake costs the hub ${extra.toFixed(2)} ms CPU`,
    );
    keys.push(`tls_handshake_cpu_ms=${extra.toFixed(2)}`);
  }
}
console.log(keys.join(' '));
