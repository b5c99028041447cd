/**
 * [S-1] The hub's listeners on real sockets: both dialects inside TLS on `host`, the
 * plaintext ones on loopback unless `plaintext` says otherwise, a client that is not ours
 * (`openssl s_client`), and clients that do not speak TLS.
 */
import { once } from 'node:events';
import net from 'node:net';
import test, { type ExecutionContext } from 'ava';
import type { ConnectionLimits } from '../../../hub/context.ts';
import { Hub } from '../../../hub/main.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { BinaryClient } from '../../helpers/binary-client.ts';
import { SEED_ENV, tempDir, testConfig } from '../../helpers/hub.ts';
import { untilPresence } from '../../helpers/hub-events.ts';
import { capturingLog, testLog } from '../../helpers/log.ts';
import { connectedClient } from '../../helpers/text-client.ts';
import { peerFingerprint, sClient, tcpConnect, tlsConnect } from '../../helpers/tls.ts';

async function hubFor(
  t: ExecutionContext,
  argv: string[] = [],
  opts: {
    env?: NodeJS.ProcessEnv;
    limits?: Partial<ConnectionLimits>;
    log?: typeof testLog;
    clock?: FakeClock;
  } = {},
): Promise<Hub> {
  const config = testConfig(argv, tempDir(), opts.env ?? SEED_ENV);
  const hub = await Hub.start(config, {
    log: opts.log ?? testLog,
    limits: opts.limits ?? {},
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  t.teardown(() => hub.stop());
  return hub;
}

/** Resolves once `cond()` holds; the hub's sockets close in their own time. */
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('[S-1] openssl s_client completes a handshake on the text TLS port and gets 108 and 101', async (t) => {
  const hub = await hubFor(t);
  const lines = await sClient(hub.textTlsPort, ['NEW alice', 'CONNECT alice 5004', 'OUT']);
  t.is(lines[0], '108 alice');
  t.regex(lines[1] ?? '', /^101 [0-9a-f-]{36} alice$/);
  t.is(lines[2], '102');
});

test('[S-1, S-2] TLS 1.3 with the hub certificate whose fingerprint the hub reports', async (t) => {
  const hub = await hubFor(t);
  for (const port of [hub.textTlsPort, hub.binaryTlsPort]) {
    const socket = await tlsConnect(port);
    t.is(socket.getProtocol(), 'TLSv1.3');
    t.is(peerFingerprint(socket), hub.fingerprint);
    t.regex(hub.fingerprint, /^sha256:[0-9a-f]{64}$/);
    socket.destroy();
  }
});

test('[S-1] TLS below 1.2 is refused', async (t) => {
  const hub = await hubFor(t);
  const tls = await import('node:tls');
  const socket = tls.connect({
    port: hub.textTlsPort,
    host: '127.0.0.1',
    rejectUnauthorized: false,
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.1',
    ciphers: 'DEFAULT:@SECLEVEL=0',
  });
  const [err] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
  t.truthy(err.code, err.message);
  t.false(socket.encrypted && socket.authorized);
});

test('[S-1] the binary dialect serves inside TLS too', async (t) => {
  const hub = await hubFor(t);
  const client = await BinaryClient.connect({ tlsPort: hub.binaryTlsPort });
  t.teardown(() => client.close());
  const r = await client.request('/create', {}, { user_mail: 'a@example.org', pass: 'pw' });
  t.is(r.status, 201);
});

test('[S-1] plaintext: loopback binds the plaintext ports to 127.0.0.1 only, TLS to host', async (t) => {
  const hub = await hubFor(t, ['--host', '127.0.0.2']);
  for (const port of [hub.textPort, hub.binaryPort]) {
    t.is(await tcpConnect('127.0.0.1', port), 'connected');
    t.is(await tcpConnect('127.0.0.2', port), 'ECONNREFUSED');
  }
  for (const port of [hub.textTlsPort, hub.binaryTlsPort]) {
    t.is(await tcpConnect('127.0.0.2', port), 'connected');
    t.is(await tcpConnect('127.0.0.1', port), 'ECONNREFUSED');
  }
  // A seed client on this machine works as before.
  const c = await connectedClient(hub.textPort, 'alice', 5004);
  c.close();
});

test('[S-1, S-11] plaintext: all binds them to host, with a warning at start', async (t) => {
  const cap = capturingLog('info');
  const hub = await hubFor(t, ['--host', '127.0.0.2', '--plaintext', 'all'], { log: cap.log });
  t.is(await tcpConnect('127.0.0.2', hub.textPort), 'connected');
  t.is(await tcpConnect('127.0.0.2', hub.binaryPort), 'connected');
  t.is(await tcpConnect('127.0.0.1', hub.textPort), 'ECONNREFUSED');
  t.true(cap.records.some((r) => r.level === 40 && r.setting === 'plaintext: all'));
});

/** A TCP port on 127.0.0.1 bound and listened on by this test until `release()`. */
async function holdPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

test('[S-1] plaintext: off has no plaintext listener at all', async (t) => {
  // The test holds both plaintext ports itself: a hub that tried to listen there would
  // fail to start (EADDRINUSE), and no other test can take them meanwhile.
  const held = await Promise.all([holdPort(), holdPort()]);
  t.teardown(() => Promise.all(held.map((h) => h.release())));
  const [text, binary] = held.map((h) => h.port);
  const cap = capturingLog('info');
  const hub = await hubFor(
    t,
    ['--plaintext', 'off', '--text-port', String(text), '--binary-port', String(binary)],
    { log: cap.log },
  );
  t.is(hub.textPort, 0);
  t.is(hub.binaryPort, 0);
  const listening = cap.records.filter((r) => r.msg === 'listening').map((r) => r.listener);
  t.deepEqual(listening, ['text-tls', 'binary-tls']);
  t.like(
    cap.records.find((r) => r.msg === 'hub listening'),
    { plaintext: 'off' },
  );
});

test('[S-1] startup logs say which listener is on which address', async (t) => {
  const cap = capturingLog('info');
  await hubFor(t, ['--host', '127.0.0.2'], { log: cap.log });
  const listening = cap.records
    .filter((r) => r.msg === 'listening')
    .map((r) => `${r.listener} ${r.address}`);
  t.deepEqual(listening, [
    'text-tls 127.0.0.2',
    'binary-tls 127.0.0.2',
    'text 127.0.0.1',
    'binary 127.0.0.1',
  ]);
});

test('[S-1] plaintext and garbage on a TLS port: closed, logged at debug, nothing leaks, the hub serves on', async (t) => {
  const cap = capturingLog('debug');
  const hub = await hubFor(t, [], { log: cap.log });
  const payloads = [
    'CONNECT alice 5004\r\n',
    Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]), // a broken ClientHello
    Buffer.alloc(4096, 0xff),
  ];
  for (const port of [hub.textTlsPort, hub.binaryTlsPort]) {
    for (const payload of payloads) {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.on('error', () => {});
      await once(s, 'connect');
      s.write(payload);
      s.resume();
      await once(s, 'close');
    }
  }
  await until(() => hub.connections === 0);
  t.is(hub.access.gate.pending, 0);
  t.true(cap.records.some((r) => r.msg === 'tls error' && r.level === 20));
  t.false(cap.records.some((r) => (r.level as number) >= 50));
  const c = await connectedClient({ tlsPort: hub.textTlsPort }, 'alice', 5004);
  t.is(await c.request('PING'), '109');
  c.close();
});

test('[S-1, S-8] a TLS handshake counts against the login deadline', async (t) => {
  // The deadline runs on a fake clock: the handshake below takes what a loaded machine
  // needs, and the deadline passes only when the test says so.
  const clock = new FakeClock();
  const hub = await hubFor(t, [], { limits: { loginDeadlineMs: 300 }, clock });
  // A client that opens TCP and never says hello, and one that shakes hands and never logs in.
  const silent = net.connect({ port: hub.textTlsPort, host: '127.0.0.1' });
  silent.on('error', () => {});
  const shaken = await tlsConnect(hub.textTlsPort);
  shaken.on('error', () => {});
  await until(() => hub.connections === 2);
  t.false(silent.closed || shaken.closed);
  const closed = Promise.all([once(silent, 'close'), once(shaken, 'close')]);
  clock.advance(300);
  await closed;
  await until(() => hub.connections === 0);
  t.is(hub.access.gate.pending, 0);
});

test('[S-8] the pre-login cap per address counts TLS connections', async (t) => {
  const hub = await hubFor(t, [], {
    env: { ...SEED_ENV, BABEL_HUB_CONNECTIONS__PRELOGIN_PER_ADDRESS: '1' },
  });
  const first = await tlsConnect(hub.textTlsPort);
  await until(() => hub.access.gate.pending === 1);
  const second = net.connect({ port: hub.textTlsPort, host: '127.0.0.1' });
  second.on('error', () => {});
  await once(second, 'close');
  t.is(hub.access.gate.refused, 1);
  // The first one is still served.
  const online = untilPresence(hub.core, (e) => e.user.name === 'alice' && e.state === 'idle');
  first.write('NEW alice\r\nCONNECT alice 0\r\n');
  await online;
  t.is(hub.access.gate.pending, 0);
  first.destroy();
});

test('[S-8] max_connections counts TLS connections: past it one is closed at accept', async (t) => {
  const hub = await hubFor(t, [], { env: { ...SEED_ENV, BABEL_HUB_MAX_CONNECTIONS: '1' } });
  const first = await tlsConnect(hub.textTlsPort);
  await until(() => hub.connections === 1);
  const second = net.connect({ port: hub.binaryTlsPort, host: '127.0.0.1' });
  second.on('error', () => {});
  await once(second, 'close');
  t.is(hub.connections, 1);
  first.destroy();
  await until(() => hub.connections === 0);
});

test('[S-1] shutdown over TLS: a call ends `107 <peer> ended` for both, then the hub closes', async (t) => {
  const config = testConfig([], tempDir(), SEED_ENV);
  const hub = await Hub.start(config, { log: testLog });
  const target = { tlsPort: hub.textTlsPort };
  const alice = await connectedClient(target, 'alice', 5004);
  const bob = await connectedClient(target, 'bob', 6006);
  t.is(await alice.request('CALL bob'), '104 bob');
  t.is(await bob.next(), '105 alice');
  t.regex((await bob.request('ACCEPT alice')) ?? '', /^106 alice /);
  t.regex((await alice.next()) ?? '', /^106 bob /);
  await hub.stop();
  t.is(await alice.next(), '107 bob ended');
  t.is(await bob.next(), '107 alice ended');
  await Promise.all([alice.waitClosed(), bob.waitClosed()]);
  await until(() => hub.connections === 0);
  t.is(hub.connections, 0);
});

test('(decision) a TLS port already taken: logged at error, the plaintext ports serve on; with plaintext off the hub does not start', async (t) => {
  const squatter = net.createServer();
  squatter.listen(0, '127.0.0.1');
  await once(squatter, 'listening');
  t.teardown(() => squatter.close());
  const taken = String((squatter.address() as net.AddressInfo).port);
  const cap = capturingLog('info');
  const hub = await hubFor(t, ['--text-tls-port', taken], { log: cap.log });
  t.is(hub.textTlsPort, 0);
  t.true(hub.binaryTlsPort > 0);
  t.like(
    cap.records.find((r) => r.msg === 'TLS port in use; running without it'),
    { level: 50, listener: 'text-tls', port: Number(taken) },
  );
  const c = await connectedClient(hub.textPort, 'alice', 5004);
  t.is(await c.request('PING'), '109');
  c.close();

  const config = testConfig(['--text-tls-port', taken, '--plaintext', 'off'], tempDir(), SEED_ENV);
  await t.throwsAsync(Hub.start(config, { log: testLog }), { message: /EADDRINUSE/ });
});
