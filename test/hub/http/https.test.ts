/**
 * The web page's port speaks HTTPS with the hub's certificate [S-2] and plain HTTP as
 * `plaintext` allows [S-1], against a real in-process hub over loopback sockets. A client
 * bound to 127.0.0.2 stands in for a phone on the network (plain-policy.ts): in plain it
 * gets a 308 to https and nothing else, its plain login is refused unread; over HTTPS,
 * checked against the hub's own certificate, it logs in (a `Secure` cookie) and follows
 * the event stream. `plaintext: off` and `all`; sockets that send nothing or garbage.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { ConnectionLimits } from '../../../hub/context.ts';
import { readWebLogin } from '../../../hub/http/credentials.ts';
import { Hub } from '../../../hub/main.ts';
import { CERT_FILE, TLS_DIR } from '../../../hub/tls/identity.ts';
import { SECURE_ENV, seedIdentity, testConfig } from '../../helpers/hub.ts';
import { capturingLog } from '../../helpers/log.ts';
import { freePort } from '../../helpers/mosquitto.ts';

/** A host on the network, as tests on loopback have it. */
const LAN = '127.0.0.2';

interface Page {
  hub: Hub;
  port: number;
  /** The hub's certificate (PEM): the CA a careful client checks it with. */
  ca: Buffer;
  password: string;
  metricsToken: string;
  records: () => Array<Record<string, unknown>>;
}

async function startPage(
  t: { teardown: (fn: () => Promise<void>) => void },
  argv: string[] = [],
  limits: Partial<ConnectionLimits> = {},
): Promise<Page> {
  const port = await freePort();
  const config = testConfig(['--http-port', String(port), ...argv], undefined, SECURE_ENV);
  await seedIdentity(config.data_dir);
  const cap = capturingLog('debug');
  const hub = await Hub.start(config, { log: cap.log, limits });
  t.teardown(() => hub.stop());
  const login = readWebLogin(config.data_dir);
  if (!login?.initial_password) throw new Error('no web login made');
  return {
    hub,
    port,
    ca: fs.readFileSync(path.join(config.data_dir, TLS_DIR, CERT_FILE)),
    password: login.initial_password,
    metricsToken: login.metrics_token,
    records: () => cap.records,
  };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Ask {
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** The client's own address: 127.0.0.1 (this machine) or LAN. */
  from?: string;
  /** Over HTTPS, checking the hub's certificate against `ca`. */
  ca?: Buffer;
}

/** One request on a fresh connection to 127.0.0.1:port. */
function ask(port: number, a: Ask): Promise<Reply> {
  const opts = {
    host: '127.0.0.1',
    port,
    path: a.path,
    method: a.method ?? 'GET',
    headers: a.headers ?? {},
    localAddress: a.from ?? '127.0.0.1',
    agent: false as const,
  };
  return new Promise((resolve, reject) => {
    const done = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    };
    const req = a.ca ? https.request({ ...opts, ca: a.ca }, done) : http.request(opts, done);
    req.on('error', reject);
    req.end(a.body);
  });
}

const form = (password: string, origin: string) => ({
  method: 'POST',
  headers: { Origin: origin, 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ password }).toString(),
});

/** Logs in over HTTPS from LAN; the session cookie's whole `Set-Cookie`. */
async function httpsLogin(p: Page, password = p.password): Promise<Reply> {
  const origin = `https://127.0.0.1:${p.port}`;
  return ask(p.port, { path: '/login', ...form(password, origin), from: LAN, ca: p.ca });
}

test('[S-1] plain HTTP from the network: a 308 to https and nothing else, whatever it sends', async (t) => {
  const p = await startPage(t);
  const logged = await httpsLogin(p);
  const cookie = String(logged.headers['set-cookie']?.[0]).split(';')[0]!;
  for (const [path, headers] of [
    ['/', {}],
    ['/login', {}],
    ['/login?failed=1', {}],
    ['/api/state', { Cookie: cookie }],
    ['/api/events', { Cookie: cookie }],
    ['/metrics', { Authorization: `Bearer ${p.metricsToken}` }],
  ] as Array<[string, Record<string, string>]>) {
    const r = await ask(p.port, { path, headers, from: LAN });
    t.is(r.status, 308, path);
    t.is(r.headers.location, `https://127.0.0.1:${p.port}${path}`, path);
    t.is(r.headers['set-cookie'], undefined, path);
    t.is(r.body, '', path);
    t.is(r.headers.connection, 'close', path);
  }
  // The browser's name for the hub is kept, so its certificate warning names it.
  const named = await ask(p.port, { path: '/', headers: { Host: `hub.lan:${p.port}` }, from: LAN });
  t.is(named.headers.location, `https://hub.lan:${p.port}/`);
  // (decision) /healthz answers anyone in plain: it carries nothing either way.
  const health = await ask(p.port, { path: '/healthz', from: LAN });
  t.is(health.status, 200);
  t.is(health.body, '{"status":"ok"}');
  // The same requests on this machine are served as before.
  t.is((await ask(p.port, { path: '/login' })).status, 200);
  t.is((await ask(p.port, { path: '/api/state', headers: { Cookie: cookie } })).status, 200);
});

test('[S-1, S-7] a plain login from the network is refused unread: the right password as the wrong one, nothing counted', async (t) => {
  const p = await startPage(t);
  const origin = `http://127.0.0.1:${p.port}`;
  const right = await ask(p.port, { path: '/login', ...form(p.password, origin), from: LAN });
  const wrong = await ask(p.port, { path: '/login', ...form('not-it-at-all', origin), from: LAN });
  for (const r of [right, wrong]) {
    t.is(r.status, 403);
    t.is(r.headers['set-cookie'], undefined);
    t.is(
      r.body,
      `plain HTTP from the network is refused unread; use https://127.0.0.1:${p.port}/\n`,
    );
  }
  // More than the throttle's 5 failures a minute, had they been checked [S-7] ...
  for (let i = 0; i < 6; i++) {
    const r = await ask(p.port, { path: '/login', ...form(`wrong-${i}`, origin), from: LAN });
    t.is(r.status, 403);
  }
  // ... yet the same address logs in over HTTPS at once, and no login was counted.
  const metrics = await ask(p.port, {
    path: '/metrics',
    headers: { Authorization: `Bearer ${p.metricsToken}` },
    from: LAN,
    ca: p.ca,
  });
  t.is(metrics.status, 200);
  t.notRegex(metrics.body, /^babel_web_logins_total\{[^}]*\} [1-9]/m);
  t.is((await httpsLogin(p)).status, 303);
  // Other plain POSTs (the API) are refused unread too, even with a live session.
  const api = await ask(p.port, {
    path: '/api/pairing',
    method: 'POST',
    headers: { Origin: origin, 'Content-Type': 'application/json' },
    body: '{"minutes":5}',
    from: LAN,
  });
  t.is(api.status, 403);
  t.is(p.hub.access.pairing.state, 'closed');
});

test('[S-2] HTTPS from the network, checked against the hub certificate: a Secure session, the page and its event stream', async (t) => {
  const p = await startPage(t);
  const res = await httpsLogin(p);
  t.is(res.status, 303);
  t.is(res.headers.location, '/');
  const setCookie = String(res.headers['set-cookie']?.[0]);
  t.regex(setCookie, /^babel_session=[A-Za-z0-9_-]{43}; /);
  t.regex(setCookie, /; HttpOnly/);
  t.regex(setCookie, /; SameSite=Strict/);
  t.regex(setCookie, /; Secure/);
  const cookie = setCookie.split(';')[0]!;
  const page = await ask(p.port, { path: '/', headers: { Cookie: cookie }, from: LAN, ca: p.ca });
  t.is(page.status, 200);
  t.regex(page.body, /<title>Babel hub<\/title>/);
  // The origin check wants the scheme the request came by.
  const origin = `https://127.0.0.1:${p.port}`;
  const post = (o: string) =>
    ask(p.port, {
      path: '/api/pairing',
      method: 'POST',
      headers: { Cookie: cookie, Origin: o, 'Content-Type': 'application/json' },
      body: '{"minutes":5}',
      from: LAN,
      ca: p.ca,
    });
  t.is((await post(`http://127.0.0.1:${p.port}`)).status, 403);
  t.is(p.hub.access.pairing.state, 'closed');

  // The event stream: the state now, then the change a POST makes.
  const events = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port: p.port,
        path: '/api/events',
        headers: { Cookie: cookie },
        localAddress: LAN,
        ca: p.ca,
        agent: false,
      },
      resolve,
    );
    req.on('error', reject);
  });
  t.teardown(() => events.destroy());
  t.is(events.statusCode, 200);
  t.true((events.socket as import('node:tls').TLSSocket).encrypted);
  let text = '';
  const seen = (re: RegExp) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (re.test(text)) {
          events.off('data', onData);
          resolve();
        }
      };
      const onData = (c: Buffer) => {
        text += c.toString('utf8');
        check();
      };
      events.on('data', onData);
      check();
    });
  await seen(/"pairing":\{"state":"closed"/);
  t.is((await post(origin)).status, 200);
  await seen(/"pairing":\{"state":"open"/);
  t.is(p.hub.access.pairing.state, 'open');

  const out = await ask(p.port, {
    path: '/logout',
    method: 'POST',
    headers: { Cookie: cookie, Origin: origin },
    from: LAN,
    ca: p.ca,
  });
  t.is(out.status, 303);
  t.regex(String(out.headers['set-cookie']?.[0]), /Max-Age=0.*; Secure$/);
});

test('[S-1] plaintext: off sends even this machine to https; /healthz stays plain', async (t) => {
  const p = await startPage(t, ['--plaintext', 'off']);
  for (const path of ['/', '/login']) {
    const r = await ask(p.port, { path });
    t.is(r.status, 308, path);
    t.is(r.headers.location, `https://127.0.0.1:${p.port}${path}`);
  }
  t.is((await ask(p.port, { path: '/healthz' })).status, 200);
  t.is((await ask(p.port, { path: '/login', ca: p.ca })).status, 200);
  const listening = p.records().find((r) => r.listener === 'http');
  t.like(listening, { url: `https://127.0.0.1:${p.port}/` });
});

test('[S-1, S-11] plaintext: all serves plain HTTP to the network too, with a warning at start', async (t) => {
  const p = await startPage(t, ['--plaintext', 'all']);
  const page = await ask(p.port, { path: '/login', from: LAN });
  t.is(page.status, 200);
  t.regex(page.body, /password/);
  const origin = `http://127.0.0.1:${p.port}`;
  const res = await ask(p.port, { path: '/login', ...form(p.password, origin), from: LAN });
  t.is(res.status, 303);
  t.notRegex(String(res.headers['set-cookie']?.[0]), /Secure/);
  const warned = p.records().filter((r) => r.level === 40 && r.mod === 'http');
  t.is(warned.length, 1);
  t.regex(String(warned[0]?.msg), /plain HTTP to the network/);
});

test('the startup log gives the local url, the network url and the certificate fingerprint', async (t) => {
  const p = await startPage(t);
  const listening = p.records().find((r) => r.listener === 'http');
  t.like(listening, {
    msg: 'listening',
    port: p.port,
    url: `http://127.0.0.1:${p.port}/`,
    lan_url: `https://127.0.0.1:${p.port}/`,
    fingerprint: p.hub.fingerprint,
  });
  t.like(p.hub.status().web, { fingerprint: p.hub.fingerprint });
});

test('[S-2] a certificate that does not name the page address: the network url takes a name it has, and a warning says so', async (t) => {
  // The shared test identity names this machine's host name, loopback and LAN addresses,
  // not another 127.x: as a certificate made before the hub named its addresses.
  const p = await startPage(t, ['--host', LAN]);
  const host = os.hostname();
  const named = host.includes('.') ? host : `${host}.local`;
  const listening = p.records().find((r) => r.listener === 'http');
  t.like(listening, { lan_url: `https://${named}:${p.port}/` });
  const warned = p.records().filter((r) => r.level === 40 && /does not name/.test(String(r.msg)));
  t.is(warned.length, 1);
  t.like(warned[0], { mod: 'http', address: LAN, lan_url: `https://${named}:${p.port}/` });
  t.regex(String(warned[0]?.msg), new RegExp(`open https://${named.replaceAll('.', '\\.')}:`));
});

test('[S-1] Expect: 100-continue: a plain login from the network is refused before its body is sent', async (t) => {
  const p = await startPage(t);
  const head = (from: string) =>
    new Promise<{ socket: net.Socket; first: string }>((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port: p.port, localAddress: from }, () => {
        socket.write(
          `POST /login HTTP/1.1\r\nHost: 127.0.0.1:${p.port}\r\nOrigin: http://127.0.0.1:${p.port}\r\n` +
            'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\n' +
            'Expect: 100-continue\r\n\r\n',
        );
      });
      socket.once('data', (c: Buffer) => resolve({ socket, first: c.toString('latin1') }));
      socket.on('error', reject);
    });
  const lan = await head(LAN);
  t.regex(lan.first, /^HTTP\/1\.1 403 /);
  t.notRegex(lan.first, /100 Continue/);
  lan.socket.destroy();
  // On this machine the body is asked for, and the login goes on (a wrong password here).
  const local = await head('127.0.0.1');
  t.teardown(() => local.socket.destroy());
  t.regex(local.first, /^HTTP\/1\.1 100 Continue\r\n/);
  const reply = new Promise<string>((resolve) => {
    local.socket.once('data', (c: Buffer) => resolve(c.toString('latin1')));
  });
  local.socket.write('password=not-the-one');
  t.regex(await reply, /^HTTP\/1\.1 303 [\s\S]*Location: \/login\?failed=1/);
});
