/**
 * Login flood benchmark (issue 10, [S-7], [S-8]). On a hub with its own defaults:
 * 1. the hub's RSS growth for 1,000 connections that never log in (from 250 loopback
 *    addresses, 4 each: under the caps of S-8);
 * 2. an attacker at 127.0.0.66 trying wrong passwords for one account as fast as the hub
 *    answers, on text CONNECT and binary /login at once, for `--seconds`; the password
 *    checks the hub performed for it (from the control socket's `stats`), in the first
 *    burst (the first 10 s) and per minute after;
 * 3. meanwhile the real device logs in from 127.0.0.2 every 250 ms: its login latency
 *    (connect to `101`), against the same figure measured before the flood (one scrypt
 *    check per login, so the machine's load shows in both).
 *
 *   node --import tsx bench/login-flood.ts [--seconds 70] [--attackers 24] [--idle 1000]
 *
 * Goals: at most 10 checks a minute after the first burst; device p99 under 100 ms;
 * 1,000 idle pre-login connections under 20 MB.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { controlRequest } from '../hub/control/client.ts';
import { formatFields } from '../protocol/binary/fields.ts';
import { encodeRequest } from '../protocol/binary/frame.ts';
import { percentile, rssMb, spawnHub } from './lib/proc.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '70' },
    attackers: { type: 'string', default: '24' },
    idle: { type: 'string', default: '1000' },
    // internal: the attacker runs in its own process, so that its load on this one does
    // not count in the device's latency
    'attacker-for': { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const attackers = Number(values.attackers);
const idleCount = Number(values.idle);
const BURST_MS = 10_000;
const ATTACKER = '127.0.0.66';
const DEVICE = '127.0.0.2';
const SECRET = 'door-secret-bench-7k';

if (values['attacker-for'] !== undefined) {
  const [textPort, binaryPort] = values['attacker-for'].split(',').map(Number);
  const endAt = performance.now() + seconds * 1000;
  const counts = await Promise.all(
    Array.from({ length: attackers }, (_, i) =>
      attacker(i % 2 === 1 ? binaryPort! : textPort!, i % 2 === 1, endAt),
    ),
  );
  process.send?.({ attempts: counts.reduce((a, b) => a + b, 0) });
  process.exit(0);
}

/** Wrong passwords for `door` from the attacker's address, one at a time, until `endAt`. */
async function attacker(port: number, binary: boolean, endAt: number): Promise<number> {
  let s: net.Socket | null = null;
  let attempts = 0;
  while (performance.now() < endAt) {
    if (!s || s.destroyed) s = await open(port, ATTACKER);
    const guess = `guess-${attempts}`;
    const req = binary
      ? encodeRequest({
          header: '',
          route: '/login',
          data: formatFields({ user_mail: 'door', pass: guess }),
        })
      : `CONNECT door 0 ${guess}\r\n`;
    if ((await ask(s, req)) !== null) attempts++;
  }
  s?.destroy();
  return attempts;
}

const hub = await spawnHub([], {}); // the hub's own defaults: closed, throttled
const pid = hub.child.pid!;
const stats = async () => controlRequest(hub.dataDir, { cmd: 'stats' });
const checks = async () => Number((await stats()).passwordChecks);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
console.log(`hub pid ${pid}, text port ${hub.textPort}, binary port ${hub.binaryPort}`);

/** A socket from `localAddress` to `port`, with a reader of its lines or frames. */
async function open(port: number, localAddress: string): Promise<net.Socket> {
  const s = net.connect({ host: '127.0.0.1', port, localAddress });
  s.setNoDelay(true);
  s.on('error', () => {});
  await once(s, 'connect');
  return s;
}

/** Sends `data` and resolves with the first chunk back (one short reply), or null on close. */
function ask(s: net.Socket, data: string | Buffer): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      s.off('close', onClose);
      resolve(chunk);
    };
    const onClose = () => {
      s.off('data', onData);
      resolve(null);
    };
    s.once('data', onData);
    s.once('close', onClose);
    s.write(data);
  });
}

// --- the account, made in a pairing window [S-6] ----------------------------------------
await controlRequest(hub.dataDir, { cmd: 'pair', minutes: 1 });
{
  const s = await open(hub.textPort, DEVICE);
  const created = (await ask(s, `NEW door ${SECRET}\r\n`))?.toString() ?? '';
  const connected = (await ask(s, `CONNECT door 0 ${SECRET}\r\n`))?.toString() ?? '';
  if (!created.startsWith('108') || !connected.startsWith('101')) {
    throw new Error(`provisioning failed: ${created} ${connected}`);
  }
  s.destroy();
}

// --- 1. RSS of idle pre-login connections [S-8] -----------------------------------------
await sleep(1000);
const rssBefore = rssMb(pid);
const idle: net.Socket[] = [];
for (let i = 0; i < idleCount; i++) {
  idle.push(await open(hub.textPort, `127.0.2.${1 + Math.floor(i / 4)}`));
}
for (let tries = 0; tries < 100; tries++) {
  const pending = (await stats()).preLogin as { pending: number };
  if (pending.pending >= idleCount) break;
  await sleep(100);
}
await sleep(500);
const rssIdle = rssMb(pid);
const idleGrowth = rssIdle - rssBefore;
console.log(
  `${idleCount} idle pre-login connections: hub RSS ${rssBefore.toFixed(1)} -> ${rssIdle.toFixed(1)} MB (+${idleGrowth.toFixed(1)} MB)`,
);
for (const s of idle) s.destroy();
while (((await stats()).preLogin as { pending: number }).pending > 0) await sleep(100);

// --- the device alone, for comparison: 40 logins, 250 ms apart --------------------------
const baseline: number[] = [];
for (let i = 0; i < 40; i++) {
  const t0 = performance.now();
  const s = await open(hub.textPort, DEVICE);
  const reply = (await ask(s, `CONNECT door 0 ${SECRET}\r\n`))?.toString() ?? '';
  if (!reply.startsWith('101')) throw new Error(`device login refused: ${reply}`);
  baseline.push(performance.now() - t0);
  s.destroy();
  await sleep(250);
}
baseline.sort((a, b) => a - b);
const baseP99 = percentile(baseline, 99);
console.log(
  `device alone: latency p50 ${percentile(baseline, 50).toFixed(1)} ms, p99 ${baseP99.toFixed(1)} ms`,
);

// --- 2. and 3. the flood and the device -------------------------------------------------
const checks0 = await checks();
let deviceLogins = 0;
const start = performance.now();
const endAt = start + seconds * 1000;
const running = () => performance.now() < endAt;
const flood = fork(
  import.meta.filename,
  [
    '--attacker-for',
    `${hub.textPort},${hub.binaryPort}`,
    '--seconds',
    String(seconds),
    '--attackers',
    String(attackers),
  ],
  { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
);
const attempts = new Promise<number>((resolve) => {
  flood.once('message', (m) => resolve((m as { attempts: number }).attempts));
  flood.once('exit', () => resolve(Number.NaN));
});

const latencies: number[] = [];
let deviceFailures = 0;
/** The device's login in progress, if any: the sampler waits for it to count exactly. */
let deviceBusy: Promise<void> = Promise.resolve();
let devicePaused = false;
async function device(): Promise<void> {
  while (running()) {
    if (devicePaused) {
      await sleep(10);
      continue;
    }
    let done = () => {};
    deviceBusy = new Promise((r) => {
      done = r;
    });
    const t0 = performance.now();
    const s = await open(hub.textPort, DEVICE);
    const reply = (await ask(s, `CONNECT door 0 ${SECRET}\r\n`))?.toString() ?? '';
    latencies.push(performance.now() - t0);
    if (reply.startsWith('101')) deviceLogins++;
    else deviceFailures++;
    s.destroy();
    done();
    await sleep(250);
  }
}

let burstChecks = Number.NaN;
const sampler = (async () => {
  await sleep(BURST_MS);
  devicePaused = true;
  await deviceBusy;
  burstChecks = (await checks()) - checks0 - deviceLogins;
  devicePaused = false;
})();

await Promise.all([device(), sampler]);
const attemptsMade = await attempts;
const elapsedMs = performance.now() - start;
const attackerChecks = (await checks()) - checks0 - deviceLogins;
const afterPerMin = ((attackerChecks - burstChecks) * 60_000) / (elapsedMs - BURST_MS);
latencies.sort((a, b) => a - b);
const p50 = percentile(latencies, 50);
const p99 = percentile(latencies, 99);
const refusedAtAccept = ((await stats()).preLogin as { refused: number }).refused;

console.log(
  `attacker: ${attemptsMade} attempts in ${(elapsedMs / 1000).toFixed(1)} s on ${attackers} connections; ${attackerChecks} password checks: ${burstChecks} in the first ${BURST_MS / 1000} s, ${afterPerMin.toFixed(1)} a minute after`,
);
console.log(
  `device: ${deviceLogins} logins, ${deviceFailures} refused; latency p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${latencies.at(-1)?.toFixed(1)} ms`,
);
console.log(
  `burst_checks=${burstChecks} checks_per_min_after=${afterPerMin.toFixed(1)} attempts=${attemptsMade} device_login_p99_ms=${p99.toFixed(1)} device_alone_p99_ms=${baseP99.toFixed(1)} device_failures=${deviceFailures} idle_prelogin_rss_mb=${idleGrowth.toFixed(1)} refused_at_accept=${refusedAtAccept} seconds=${(elapsedMs / 1000).toFixed(0)}`,
);
await hub.stop();
