/**
 * The web page's one port (hub/http/one-port.ts): HTTPS and plain HTTP told apart by the
 * first byte, over real loopback sockets. Sockets that send nothing, half a request head
 * or half a ClientHello are closed at the deadline (a FakeClock: not a moment before it
 * moves), garbage at once, all logged at debug at most; requests in both schemes are
 * served, pipelined ones too. In a real hub: its login deadline closes a silent socket
 * [S-8], and Debian's `openssl s_client` sees the hub's certificate, the fingerprint
 * `babel-hub fingerprint` prints [S-2].
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import { OnePort } from '../../../hub/http/one-port.ts';
import { Hub } from '../../../hub/main.ts';
import { serverContext } from '../../../hub/net/tls.ts';
import { CERT_FILE, fingerprintOf, loadIdentity, TLS_DIR } from '../../../hub/tls/identity.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { runHubCli, SECURE_ENV, seedIdentity, tempDir, testConfig } from '../../helpers/hub.ts';
import { capturingLog } from '../../helpers/log.ts';
import { until } from '../../helpers/media-session.ts';
import { freePort } from '../../helpers/mosquitto.ts';

const DEADLINE_MS = 10_000;
const AT_DEADLINE = 'web connection closed: no request within the deadline';

/** A OnePort on a FakeClock in front of an http server that says which way a request came. */
async function onePort(t: { teardown: (fn: () => Promise<void>) => void }) {
  const dir = tempDir();
  await seedIdentity(dir);
  const identity = await loadIdentity({ data_dir: dir, tls: {} });
  const server = http.createServer((req, res) => {
    const secure = (req.socket as import('node:tls').TLSSocket).encrypted === true;
    res.end(`${secure ? 'tls' : 'plain'} ${req.url}`);
  });
  const clock = new FakeClock();
  const cap = capturingLog('debug');
  const port = new OnePort({
    http: server,
    secureContext: serverContext(identity),
    clock,
    deadlineMs: DEADLINE_MS,
    log: cap.log,
  });
  port.server.listen(0, '127.0.0.1');
  await once(port.server, 'listening');
  server.emit('listening');
  t.teardown(async () => {
    const closed = port.close();
    server.closeAllConnections();
    server.close(() => {});
    await closed;
  });
  const { port: number } = port.server.address() as net.AddressInfo;
  return { port, number, clock, cap, ca: identity.cert };
}

/** A socket to `port` that has written `bytes`; `closed` resolves when the other end closes it. */
async function client(port: number, bytes: Buffer | string | null) {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {}); // a reset is a close too
  const received: Buffer[] = [];
  socket.on('data', (c: Buffer) => received.push(c));
  const closed = once(socket, 'close').then(() => Buffer.concat(received));
  await once(socket, 'connect');
  if (bytes !== null) socket.write(bytes);
  return { socket, closed, isClosed: () => socket.closed };
}

test('silent and half-open sockets wait for the deadline, garbage is closed at once, nothing logged above debug', async (t) => {
  const p = await onePort(t);
  // (a TLS record header announcing a 512-byte handshake message, then nothing more)
  const halfHello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]);
  const waiting = [
    await client(p.number, null),
    await client(p.number, 'GET / HTTP/1.1\r\nHost: x\r\n'),
    await client(p.number, halfHello),
    ...(await Promise.all(Array.from({ length: 40 }, () => client(p.number, null)))),
  ];
  t.true(await until(() => p.port.waiting === waiting.length, 10_000));

  // Garbage, with the clock standing still: closed by the parsers, not by the deadline.
  for (const garbage of [
    Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a]),
    Buffer.concat([Buffer.from([0x16]), Buffer.alloc(64, 0xee)]),
    'HELLO there\r\n\r\n',
  ]) {
    const c = await client(p.number, garbage);
    await c.closed;
  }
  t.false(
    waiting.some((c) => c.isClosed()),
    'nothing closed before the deadline',
  );
  p.clock.advance(DEADLINE_MS - 1);
  t.is(p.port.waiting, waiting.length);
  p.clock.advance(1);
  const got = await Promise.all(waiting.map((c) => c.closed));
  t.deepEqual(
    got.map((b) => b.length),
    waiting.map(() => 0),
  );
  t.is(p.port.waiting, 0);
  const records = p.cap.records;
  t.deepEqual(
    records.filter((r) => Number(r.level) > 20),
    [],
  );
  t.is(records.filter((r) => r.msg === AT_DEADLINE).length, waiting.length);
});

test('both schemes on one port: HTTPS checked against the hub certificate, plain pipelined, the first byte alone', async (t) => {
  const p = await onePort(t);
  const body = await new Promise<string>((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port: p.number, path: '/s', ca: p.ca, agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString('utf8');
        });
        res.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
  t.is(body, 'tls /s');
  // Two requests in one write: the sniffed chunk goes back whole, the second is not lost.
  const pipelined = await client(
    p.number,
    'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  );
  const text = (await pipelined.closed).toString('latin1');
  t.regex(text, /plain \/a[\s\S]*plain \/b$/);
  // The first byte alone, the rest after.
  const split = await client(p.number, 'G');
  split.socket.write('ET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  t.regex((await split.closed).toString('latin1'), /plain \/c$/);
  t.is(p.port.waiting, 0);
});

async function startHub(t: { teardown: (fn: () => Promise<void>) => void }, deadlineMs?: number) {
  const port = await freePort();
  const config = testConfig(['--http-port', String(port)], undefined, SECURE_ENV);
  await seedIdentity(config.data_dir);
  const cap = capturingLog('debug');
  const limits = deadlineMs === undefined ? {} : { loginDeadlineMs: deadlineMs };
  const hub = await Hub.start(config, { log: cap.log, limits });
  t.teardown(() => hub.stop());
  return { hub, port, dataDir: config.data_dir, records: () => cap.records };
}

test('[S-8] the hub closes a silent socket on its page port at its login deadline and serves on', async (t) => {
  const h = await startHub(t, 1000);
  const silent = await client(h.port, null);
  await silent.closed;
  t.true(h.records().some((r) => r.msg === AT_DEADLINE && r.level === 20));
  t.is((await fetch(`http://127.0.0.1:${h.port}/healthz`)).status, 200);
});

test('[S-2] openssl s_client on the page port sees the hub certificate, as babel-hub fingerprint prints it', async (t) => {
  const h = await startHub(t);
  const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${h.port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  const [code] = (await once(child, 'exit')) as [number];
  t.is(code, 0);
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out)?.[0];
  t.truthy(pem, out);
  const printed = await runHubCli(['fingerprint', '--data-dir', h.dataDir]);
  t.is(printed.code, 0, printed.stderr);
  t.is(fingerprintOf(pem!), printed.stdout.trim());
  t.is(printed.stdout.trim(), h.hub.fingerprint);
  t.is(fingerprintOf(fs.readFileSync(path.join(h.dataDir, TLS_DIR, CERT_FILE))), h.hub.fingerprint);
});
