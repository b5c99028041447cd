/**
 * Secrets never appear in logs, the web page's too: a real hub process logging at trace
 * level serves a session that uses each secret of the page (the admin password, a wrong
 * one, the session cookie, the metrics token, a user secret the page generates, a new
 * password from `babel-hub web-login --generate-password`; a login over HTTPS, one in plain
 * from the network and the metrics token sent there, both refused unread), and its whole
 * log is then searched for each of them. The login file is mode 0600.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import test from 'ava';
import { readWebLogin, WEB_LOGIN_FILE } from '../../hub/http/credentials.ts';
import { runHubCli, SECURE_ENV, spawnHubProcess, tempDir } from '../helpers/hub.ts';
import { freePort } from '../helpers/mosquitto.ts';

/** One request on its own connection: HTTPS checked against `ca`, or plain from `from`. */
function request(
  port: number,
  p: string,
  body: string | null,
  o: { ca?: Buffer; from?: string } & Record<string, unknown>,
): Promise<{ status: number; cookie: string }> {
  const { ca, from, ...headers } = o;
  const opts = {
    host: '127.0.0.1',
    port,
    path: p,
    method: body === null ? 'GET' : 'POST',
    headers: {
      ...(headers as Record<string, string>),
      ...(body === null ? {} : { 'Content-Type': 'application/x-www-form-urlencoded' }),
    },
    localAddress: from ?? '127.0.0.1',
    agent: false as const,
  };
  return new Promise((resolve, reject) => {
    const done = (res: http.IncomingMessage) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, cookie: res.headers['set-cookie']?.[0] ?? '' }),
      );
    };
    const req = ca ? https.request({ ...opts, ca }, done) : http.request(opts, done);
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

test('a trace-level hub log of a web session holds no password, cookie or token', async (t) => {
  const dataDir = tempDir('babel-weblog-');
  const port = await freePort();
  const hub = await spawnHubProcess(
    ['--text-port', '0', '--http-port', String(port), '--log-level', 'trace'],
    dataDir,
    SECURE_ENV,
  );
  t.teardown(() => hub.kill('SIGTERM'));
  const base = `http://127.0.0.1:${port}`;
  await hub.waitForLine((l) => l.includes('"listener":"http"'));
  t.is(fs.statSync(path.join(dataDir, WEB_LOGIN_FILE)).mode & 0o777, 0o600);
  const login = readWebLogin(dataDir)!;
  const used = [login.initial_password!, login.metrics_token, 'wrong-password-7f3a'];
  const post = (p: string, body: string, headers: Record<string, string>) =>
    fetch(`${base}${p}`, {
      method: 'POST',
      headers: { Origin: base, ...headers },
      body,
      redirect: 'manual',
    });

  const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
  t.is((await post('/login', 'password=wrong-password-7f3a', form)).status, 303);
  const ok = await post(
    '/login',
    new URLSearchParams({ password: login.initial_password! }).toString(),
    form,
  );
  const cookie = ok.headers.get('set-cookie')!.split(';')[0]!;
  used.push(cookie.split('=')[1]!);
  const added = await post('/api/users/add', '{"name":"door"}', {
    Cookie: cookie,
    'Content-Type': 'application/json',
  });
  const { secret } = (await added.json()) as { secret: string };
  used.push(secret);
  t.is(
    (
      await fetch(`${base}/metrics`, {
        headers: { Authorization: `Bearer ${login.metrics_token}` },
      })
    ).status,
    200,
  );
  const changed = await runHubCli(['web-login', '--generate-password', '--data-dir', dataDir]);
  const fresh = /password: (\S+)/.exec(changed.stdout)?.[1];
  t.truthy(fresh);
  used.push(fresh!);
  t.is((await fetch(`${base}/api/state`, { headers: { Cookie: cookie } })).status, 401);
  t.is((await post('/login', `password=${fresh}`, form)).status, 303);

  // Over HTTPS, and in plain from the network (refused unread): still nothing logged.
  const ca = fs.readFileSync(path.join(dataDir, 'tls', 'hub.crt'));
  const secure = await request(port, '/login', `password=${fresh}`, {
    ca,
    Origin: `https://127.0.0.1:${port}`,
  });
  t.is(secure.status, 303);
  const secureCookie = secure.cookie.split(';')[0]!;
  used.push(secureCookie.split('=')[1]!);
  t.regex(secure.cookie, /; Secure/);
  const plain = await request(port, '/login', `password=${fresh}`, {
    from: '127.0.0.2',
    Origin: base,
  });
  t.is(plain.status, 403);
  const lanToken = await request(port, '/metrics', null, {
    from: '127.0.0.2',
    Authorization: `Bearer ${login.metrics_token}`,
    Cookie: secureCookie,
  });
  t.is(lanToken.status, 308);

  await hub.kill('SIGTERM');
  const log = hub.lines.join('\n');
  t.true(log.includes('"level":10'), 'the log is at trace');
  t.true(log.includes('web login failed'));
  t.true(log.includes('plain http request sent to https'));
  for (const s of used) t.false(log.includes(s), `a secret in the log: ${s.slice(0, 4)}…`);
});
