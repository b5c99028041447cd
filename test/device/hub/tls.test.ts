/**
 * [S-3] The hub link over TLS: a TLS server of the test's own (Node `tls`, a certificate
 * from Debian's openssl) fronts the in-process hub or answers by script, and records every
 * application byte it gets.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import test from 'ava';
import { HubClient, type HubClientOptions } from '../../../device/hub/client.ts';
import type { CallEvent } from '../../../device/hub/events.ts';
import { hubClientFor } from '../../../device/hub/link.ts';
import { FINGERPRINT_FILE, HubTrust } from '../../../device/hub/trust.ts';
import { Backoff } from '../../../shared/backoff.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { startHub, tempDir } from '../../helpers/hub.ts';
import { capturingLog, testLog } from '../../helpers/log.ts';
import { makeCert, type TestCert, tlsFront } from '../../helpers/tls-hub.ts';

const MAX_BACKOFF_MS = 200;
const CERT = makeCert();

/** A TLS client on a FakeClock; `attempts` counts its connection attempts. */
function client(port: number, trust: HubTrust, over: Partial<HubClientOptions> = {}) {
  const clock = new FakeClock();
  const sockets: TLSSocket[] = [];
  const c = new HubClient({
    host: '127.0.0.1',
    port,
    name: 'door',
    secret: 's3cret-that-must-not-leak',
    mediaPort: 5004,
    autoCreate: true,
    clock,
    log: testLog,
    backoff: new Backoff({ minMs: 20, maxMs: MAX_BACKOFF_MS, jitter: 0 }),
    tls: {
      check: (der) => trust.check(der, `127.0.0.1:${port}`),
      connectFn: (o) => {
        const s = tlsConnect(o);
        sockets.push(s);
        return s;
      },
    },
    ...over,
  });
  return { c, clock, sockets };
}

async function closed(sockets: TLSSocket[]): Promise<void> {
  const s = sockets.at(-1)!;
  if (!s.closed) await new Promise((resolve) => s.once('close', resolve));
}

function trustFor(opts: { pin?: TestCert; stateDir?: string } = {}) {
  const cap = capturingLog();
  const stateDir = opts.stateDir ?? tempDir();
  const trust = new HubTrust({ pin: opts.pin?.fingerprint ?? null, stateDir, log: cap.log });
  return { trust, cap, stateDir };
}

test('[S-3] the right pin connects; the account is made and registered over TLS', async (t) => {
  const { hub, stop } = await startHub();
  const front = await tlsFront(CERT, { target: hub.textPort });
  const { trust } = trustFor({ pin: CERT });
  const { c } = client(front.port, trust);
  try {
    c.start();
    await once(c, 'online');
    t.true(c.secure);
    t.true(hub.accounts.getByName('door')?.hasSecret);
    t.regex(Buffer.concat(front.received).toString(), /^CONNECT door 5004 s3cret/);
  } finally {
    c.stop();
    await front.close();
    await stop();
  }
});

test('[S-3] a wrong pin is refused before any byte, retried with the backoff, never in plaintext', async (t) => {
  const front = await tlsFront(CERT);
  const other = makeCert();
  const { trust, cap } = trustFor({ pin: other });
  const { c, clock, sockets } = client(front.port, trust);
  try {
    c.start();
    for (let n = 1; n <= 3; n++) {
      await closed(sockets);
      t.is(sockets.length, n);
      // The next attempt waits for its backoff delay: 20, 40, 80 ms.
      clock.advance(20 * 2 ** (n - 1) - 1);
      t.is(sockets.length, n, `no retry before the backoff (${n})`);
      clock.advance(1);
    }
    await closed(sockets);
    t.is(Buffer.concat(front.received).length, 0, 'no application byte: no CONNECT, no secret');
    t.false(c.online);
    // Every attempt was TLS to the same port: no plaintext fallback.
    t.is(front.counts.connections, 4);
    const errors = cap.records.filter((r) => r.level === 50);
    t.is(errors.length, 1, 'said once per streak');
    t.is(errors[0]?.expected, other.fingerprint);
    t.is(errors[0]?.presented, CERT.fingerprint);
    t.true(
      String(errors[0]?.msg).includes(
        `its certificate is ${CERT.fingerprint}, expected ${other.fingerprint}`,
      ),
    );
  } finally {
    c.stop();
    await front.close();
  }
});

test('[S-3] first use records the fingerprint; a regenerated hub certificate is refused after', async (t) => {
  const { hub, stop } = await startHub();
  const front = await tlsFront(CERT, { target: hub.textPort });
  const { trust, cap, stateDir } = trustFor();
  const { c, clock, sockets } = client(front.port, trust);
  try {
    c.start();
    await once(c, 'online');
    const file = `${stateDir}/${FINGERPRINT_FILE}`;
    t.is(fs.readFileSync(file, 'utf8'), `${CERT.fingerprint}\n`);
    t.is(fs.statSync(file).mode & 0o777, 0o600);
    t.true(cap.records.some((r) => r.level === 40 && /first use/.test(String(r.msg))));

    // The hub gets a new identity; the paired device refuses it and writes nothing.
    const regenerated = makeCert();
    front.setCert(regenerated);
    const bytesBefore = Buffer.concat(front.received).length;
    const offline = once(c, 'offline');
    for (const s of sockets) s.destroy();
    await offline;
    clock.advance(MAX_BACKOFF_MS);
    await closed(sockets);
    t.false(c.online);
    t.is(Buffer.concat(front.received).length, bytesBefore, 'nothing written to the new identity');
    t.is(fs.readFileSync(file, 'utf8'), `${CERT.fingerprint}\n`, 'the record is kept');
    const refusal = cap.records.find((r) => r.level === 50);
    t.is(refusal?.presented, regenerated.fingerprint);
    t.is(refusal?.expected, CERT.fingerprint);
    t.regex(String(refusal?.msg), /re-pair: delete .* or set hub_fingerprint/);

    // Re-pairing: the record deleted, the next attempt trusts the new certificate.
    fs.rmSync(file);
    const online = once(c, 'online');
    clock.advance(MAX_BACKOFF_MS);
    await online;
    t.is(fs.readFileSync(file, 'utf8'), `${regenerated.fingerprint}\n`);
  } finally {
    c.stop();
    await front.close();
    await stop();
  }
});

test('[S-4] on a TLS link a 106 without SRTP keys is refused (the call is hung up, no clear audio)', async (t) => {
  const front = await tlsFront(CERT, {
    onLine: (line, s) => {
      if (line.startsWith('CONNECT')) s.write('101 0b5c2f3e-8a4e-4f7e-9d55-3c1f0d6a2b11 door\r\n');
      if (line === 'CALL kitchen') s.write('104 kitchen\r\n106 kitchen 127.0.0.1 6000\r\n');
    },
  });
  const { trust } = trustFor({ pin: CERT });
  const { c } = client(front.port, trust);
  const events: CallEvent[] = [];
  c.on('call', (e) => events.push(e));
  try {
    c.start();
    await once(c, 'online');
    const second = new Promise<void>((resolve) =>
      c.on('call', () => events.length === 2 && resolve()),
    );
    c.send('CALL', 'kitchen');
    await second;
    t.deepEqual(events[1], {
      kind: 'bad_media',
      peer: 'kitchen',
      reason: 'no SRTP keys on a TLS link',
    });
  } finally {
    c.stop();
    await front.close();
  }
});

test('[S-4, G-2] on a TLS link a page (111) without SRTP keys is refused, never played', async (t) => {
  const K1 = Buffer.alloc(30, 1).toString('base64');
  const K2 = Buffer.alloc(30, 2).toString('base64');
  const front = await tlsFront(CERT, {
    onLine: (line, s) => {
      if (!line.startsWith('CONNECT')) return;
      s.write('101 0b5c2f3e-8a4e-4f7e-9d55-3c1f0d6a2b11 door\r\n');
      s.write('111 reception 127.0.0.1 6000\r\n');
      s.write(`111 reception 127.0.0.1 6002 AES_CM_128_HMAC_SHA1_80 ${K1} ${K2}\r\n`);
    },
  });
  const { trust } = trustFor({ pin: CERT });
  const { c } = client(front.port, trust);
  const events: CallEvent[] = [];
  const two = new Promise<void>((resolve) =>
    c.on('call', (e) => {
      events.push(e);
      if (events.length === 2) resolve();
    }),
  );
  try {
    c.start();
    await two;
    t.deepEqual(events, [
      { kind: 'bad_media', peer: 'reception', reason: 'no SRTP keys on a TLS link' },
      {
        kind: 'paged',
        caller: 'reception',
        ip: '127.0.0.1',
        port: 6002,
        srtp: { suite: 'AES_CM_128_HMAC_SHA1_80', send: K1, recv: K2 },
      },
    ]);
  } finally {
    c.stop();
    await front.close();
  }
});

test('[S-3] a TLS handshake with a plaintext port fails with advice, and is retried', async (t) => {
  const { hub, stop } = await startHub();
  const { trust } = trustFor();
  const cap = capturingLog();
  const { c, clock, sockets } = client(hub.textPort, trust, { log: cap.log });
  try {
    c.start();
    await closed(sockets);
    clock.advance(20);
    await closed(sockets);
    t.is(sockets.length, 2);
    t.false(c.online);
    const warns = cap.records.filter((r) => r.level === 40);
    t.is(warns.length, 1);
    t.regex(String(warns[0]?.msg), /TLS handshake with the hub failed: .*4342.*tcp:\/\//);
  } finally {
    c.stop();
    await stop();
  }
});

test('[S-3] the agent link from config: tls:// without a pin records the hub in $STATE_DIRECTORY; 127.0.0.1 stays plaintext', async (t) => {
  const front = await tlsFront(CERT, {
    onLine: (line, s) => {
      if (line.startsWith('CONNECT')) s.write('101 0b5c2f3e-8a4e-4f7e-9d55-3c1f0d6a2b11 door\r\n');
    },
  });
  const stateDir = tempDir();
  const deps = { secret: 's3cret', mediaPort: 5004, clock: new FakeClock(), log: testLog };
  const config = { name: 'door', auto_create: true };
  const c = hubClientFor(
    { ...config, hub: `tls://127.0.0.1:${front.port}` },
    { ...deps, env: { STATE_DIRECTORY: stateDir } },
  );
  try {
    c.start();
    await once(c, 'online');
    t.true(c.secure);
    t.is(fs.readFileSync(`${stateDir}/${FINGERPRINT_FILE}`, 'utf8'), `${CERT.fingerprint}\n`);
  } finally {
    c.stop();
    await front.close();
  }
  const plain = hubClientFor({ ...config, hub: '127.0.0.1:4242' }, { ...deps, env: {} });
  t.false(plain.secure);
  const forced = hubClientFor(
    { ...config, hub: 'tcp://hub.local', hub_fingerprint: CERT.fingerprint },
    { ...deps, env: {} },
  );
  t.false(forced.secure);
});
