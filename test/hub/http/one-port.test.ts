/**
 * The web page's one port (hub/http/one-port.ts) against a real in-process hub: Debian's
 * `openssl s_client` sees the hub's certificate there (the fingerprint `babel-hub
 * fingerprint` prints) [S-2]; sockets that send nothing, garbage, half a handshake or
 * half a request are closed at the deadline or at once, logged at debug at most, and the
 * page serves on, in both schemes.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import { Hub } from '../../../hub/main.ts';
import { CERT_FILE, fingerprintOf, TLS_DIR } from '../../../hub/tls/identity.ts';
import { runHubCli, SECURE_ENV, seedIdentity, testConfig } from '../../helpers/hub.ts';
import { capturingLog } from '../../helpers/log.ts';
import { freePort } from '../../helpers/mosquitto.ts';

/** Short: the sockets below wait for it (the default is the 10 s login deadline [S-8]). */
const DEADLINE_MS = 400;
const AT_DEADLINE = 'web connection closed: no request within the deadline';

async function startPage(t: { teardown: (fn: () => Promise<void>) => void }) {
  const port = await freePort();
  const config = testConfig(['--http-port', String(port)], undefined, SECURE_ENV);
  await seedIdentity(config.data_dir);
  const cap = capturingLog('debug');
  const hub = await Hub.start(config, { log: cap.log, limits: { loginDeadlineMs: DEADLINE_MS } });
  t.teardown(() => hub.stop());
  return { hub, port, dataDir: config.data_dir, records: () => cap.records };
}

/** Connects to the page's port from `from`, writes `bytes`, and resolves when the hub closes. */
async function closedAfter(port: number, bytes: Buffer | null, from = '127.0.0.2') {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: from });
  socket.on('error', () => {}); // a reset is a close too
  await once(socket, 'connect');
  if (bytes) socket.write(bytes);
  const received: Buffer[] = [];
  socket.on('data', (c: Buffer) => received.push(c));
  await once(socket, 'close');
  return { received: Buffer.concat(received) };
}

test('sockets that send nothing, garbage or half of something are closed; the page serves on', async (t) => {
  const p = await startPage(t);
  const before = p.records().length;
  // (a TLS record header announcing a 512-byte handshake message, then nothing)
  const halfHello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]);
  const cases: Array<[string, Buffer | null]> = [
    ['nothing', null],
    ['half a request head', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n')],
    ['half a ClientHello', halfHello],
  ];
  const deadlineCloses = () => p.records().filter((r) => r.msg === AT_DEADLINE).length;
  for (const [name, bytes] of cases) {
    const n = deadlineCloses();
    const r = await closedAfter(p.port, bytes);
    // by the deadline (logged before the close), not the http server's 10 s header timeout
    t.is(deadlineCloses(), n + 1, name);
    t.is(r.received.length, 0, name);
  }
  const garbage: Array<[string, Buffer]> = [
    ['binary garbage', Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a])],
    ['a TLS byte, then garbage', Buffer.concat([Buffer.from([0x16]), Buffer.alloc(64, 0xee)])],
    ['text that is no HTTP', Buffer.from('HELLO there\r\n\r\n')],
  ];
  for (const [name, bytes] of garbage) {
    const n = deadlineCloses();
    await closedAfter(p.port, bytes);
    t.is(deadlineCloses(), n, `${name}: closed at once, not at the deadline`);
  }
  // Many silent ones at once: all closed, none logged above debug.
  await Promise.all(Array.from({ length: 40 }, () => closedAfter(p.port, null)));
  const since = p.records().slice(before);
  t.deepEqual(
    since.filter((r) => Number(r.level) > 20),
    [],
  );
  t.true(
    p.records().some((r) => r.msg === 'web connection closed: no request within the deadline'),
  );
  // The page serves on, both ways.
  t.is((await fetch(`http://127.0.0.1:${p.port}/healthz`)).status, 200);
  const ca = fs.readFileSync(path.join(p.dataDir, TLS_DIR, CERT_FILE));
  const secure = await new Promise<number>((resolve, reject) => {
    import('node:https').then(({ default: https }) => {
      https
        .get({ host: '127.0.0.1', port: p.port, path: '/login', ca, agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    }, reject);
  });
  t.is(secure, 200);
});

test('[S-2] openssl s_client on the page port sees the hub certificate, as babel-hub fingerprint prints it', async (t) => {
  const p = await startPage(t);
  const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${p.port}`], {
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
  const printed = await runHubCli(['fingerprint', '--data-dir', p.dataDir]);
  t.is(printed.code, 0, printed.stderr);
  t.is(fingerprintOf(pem!), printed.stdout.trim());
  t.is(printed.stdout.trim(), p.hub.fingerprint);
  t.regex(out, /ALPN protocol: http\/1\.1|No ALPN negotiated/);
});
