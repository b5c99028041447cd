/**
 * The web server of a real in-process hub over loopback HTTP: everything but `/healthz`
 * and the login form needs the admin's session; the session cookie's attributes; POSTs
 * only from the page's own origin, as JSON; failed logins throttled [S-7]; a password set
 * with `babel-hub web-login --set-password` ends the old sessions; the event stream;
 * user administration and pairing as the CLI does them.
 */
import test from 'ava';
import { readWebLogin, setAdminPassword } from '../../../hub/http/credentials.ts';
import { runWebLogin } from '../../../hub/http/web-login-command.ts';
import { SECURE_ENV, startHub, type TestHub } from '../../helpers/hub.ts';
import { freePort } from '../../helpers/mosquitto.ts';

interface Web {
  hub: TestHub;
  base: string;
  origin: string;
  password: string;
}

async function startWeb(env: NodeJS.ProcessEnv = SECURE_ENV): Promise<Web> {
  const port = await freePort();
  const hub = await startHub(['--http-port', String(port)], {}, undefined, env);
  const password = readWebLogin(hub.dataDir)?.initial_password;
  if (!password) throw new Error('no web login made');
  const base = `http://127.0.0.1:${port}`;
  return { hub, base, origin: base, password };
}

async function login(w: Web, password = w.password): Promise<Response> {
  return fetch(`${w.base}/login`, {
    method: 'POST',
    headers: { Origin: w.origin, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ password }).toString(),
    redirect: 'manual',
  });
}

async function session(w: Web): Promise<string> {
  const res = await login(w);
  const cookie = res.headers.get('set-cookie');
  if (res.status !== 303 || !cookie) throw new Error(`login failed: ${res.status}`);
  return cookie.split(';')[0]!;
}

function post(
  w: Web,
  path: string,
  cookie: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return fetch(`${w.base}${path}`, {
    method: 'POST',
    headers: { Cookie: cookie, Origin: w.origin, 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
    redirect: 'manual',
  });
}

test('only /healthz and the login form answer without a session', async (t) => {
  const w = await startWeb();
  t.teardown(() => w.hub.stop());
  const health = await fetch(`${w.base}/healthz`);
  t.is(health.status, 200);
  t.deepEqual(await health.json(), { status: 'ok' });
  t.is((await fetch(`${w.base}/login`)).status, 200);
  for (const path of ['/', '/app.js', '/app.css', '/nothing-here']) {
    const res = await fetch(`${w.base}${path}`, { redirect: 'manual' });
    t.is(res.status, 303, path);
    t.is(res.headers.get('location'), '/login', path);
  }
  for (const path of ['/api/state', '/api/events', '/metrics']) {
    t.is((await fetch(`${w.base}${path}`)).status, 401, path);
  }
  for (const path of ['/api/pairing', '/api/users/add', '/api/users/remove', '/api/users/secret']) {
    const res = await post(w, path, 'babel_session=forged-token-value', { name: 'x', minutes: 5 });
    t.is(res.status, 401, path);
  }
  t.is(w.hub.hub.access.pairing.state, 'closed');
  t.is(w.hub.hub.accounts.getByName('x'), undefined);
});

test('a login sets an HttpOnly, SameSite=Strict session that opens the page and the API', async (t) => {
  const w = await startWeb();
  t.teardown(() => w.hub.stop());
  const wrong = await login(w, 'not-the-password');
  t.is(wrong.status, 303);
  t.is(wrong.headers.get('location'), '/login?failed=1');
  t.is(wrong.headers.get('set-cookie'), null);

  const res = await login(w);
  t.is(res.status, 303);
  const cookie = res.headers.get('set-cookie') ?? '';
  t.regex(cookie, /^babel_session=[A-Za-z0-9_-]{43}; /);
  t.regex(cookie, /; HttpOnly/);
  t.regex(cookie, /; SameSite=Strict/);
  const c = cookie.split(';')[0]!;
  const page = await fetch(`${w.base}/`, { headers: { Cookie: c } });
  t.is(page.status, 200);
  t.regex(await page.text(), /<title>Babel hub<\/title>/);
  t.regex(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  const state = (await (await fetch(`${w.base}/api/state`, { headers: { Cookie: c } })).json()) as {
    stations: unknown[];
    pairing: { state: string };
    hub: { listeners: Record<string, number> };
  };
  t.deepEqual(state.stations, []);
  t.is(state.pairing.state, 'closed');
  t.is(state.hub.listeners.http, w.hub.hub.httpPort);

  // Logging out ends the session.
  const out = await post(w, '/logout', c, {});
  t.is(out.status, 303);
  t.is((await fetch(`${w.base}/api/state`, { headers: { Cookie: c } })).status, 401);
});

test('POSTs from another origin, without an origin, or not as JSON are refused and change nothing', async (t) => {
  const w = await startWeb();
  t.teardown(() => w.hub.stop());
  const c = await session(w);
  const evil = await post(w, '/api/pairing', c, { minutes: 5 }, { Origin: 'http://evil.example' });
  t.is(evil.status, 403);
  const bare = await fetch(`${w.base}/api/pairing`, {
    method: 'POST',
    headers: { Cookie: c, 'Content-Type': 'application/json' },
    body: '{"minutes":5}',
  });
  t.is(bare.status, 403);
  const form = await post(w, '/api/users/add', c, 'x', {
    'Content-Type': 'application/x-www-form-urlencoded',
  });
  t.is(form.status, 415);
  const crossLogin = await fetch(`${w.base}/login`, {
    method: 'POST',
    headers: { Origin: 'http://evil.example' },
    body: new URLSearchParams({ password: w.password }),
    redirect: 'manual',
  });
  t.is(crossLogin.status, 403);
  t.is(crossLogin.headers.get('set-cookie'), null);
  t.is(w.hub.hub.access.pairing.state, 'closed');
  t.deepEqual(w.hub.hub.accounts.listUsers(), []);
  // Same origin, JSON: it works, and bad input is a clear 400.
  t.is((await post(w, '/api/pairing', c, { minutes: 5 })).status, 200);
  t.is(w.hub.hub.access.pairing.state, 'open');
  const bad = await post(w, '/api/pairing', c, { minutes: 0 });
  t.is(bad.status, 400);
  t.regex(((await bad.json()) as { error: string }).error, /minutes/);
  t.is((await post(w, '/api/pairing', c, { open: false })).status, 200);
  t.is(w.hub.hub.access.pairing.state, 'closed');
  const notJson = await fetch(`${w.base}/api/pairing`, {
    method: 'POST',
    headers: { Cookie: c, Origin: w.origin, 'Content-Type': 'application/json' },
    body: '{not json',
  });
  t.is(notJson.status, 400);
  const big = await post(w, '/api/users/add', c, { name: 'x', secret: 'y'.repeat(10_000) });
  t.is(big.status, 413);
});

test('[S-7] failed web logins are throttled per address, even with the right password next', async (t) => {
  const w = await startWeb();
  t.teardown(() => w.hub.stop());
  // the throttle's rule: more than 5 failures in a minute block the address
  for (let i = 0; i < 6; i++) t.is((await login(w, `wrong-${i}`)).status, 303);
  const blocked = await login(w);
  t.is(blocked.status, 429);
  t.true(Number(blocked.headers.get('retry-after')) > 0);
  t.is(blocked.headers.get('set-cookie'), null);
});

test("without the throttle (the seeds' setting) failures are only refused", async (t) => {
  const w = await startWeb({ BABEL_HUB_LOGIN_THROTTLE: 'off' });
  t.teardown(() => w.hub.stop());
  for (let i = 0; i < 7; i++) t.is((await login(w, `wrong-${i}`)).status, 303);
  t.is((await login(w)).status, 303);
  t.truthy((await login(w)).headers.get('set-cookie'));
});

test('a new admin password (babel-hub web-login --set-password) ends the old sessions', async (t) => {
  const w = await startWeb();
  t.teardown(() => w.hub.stop());
  const c = await session(w);
  const stream = await fetch(`${w.base}/api/events`, { headers: { Cookie: c } });
  t.is(stream.status, 200);
  const reader = stream.body!.getReader();
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s) };
  const short = await runWebLogin(
    ['--set-password', '--data-dir', w.hub.dataDir],
    {},
    {
      ...io,
      readLine: async () => 'short',
    },
  );
  t.is(short, 1);
  t.regex(err.join(''), /at least 10/);
  t.is((await fetch(`${w.base}/api/state`, { headers: { Cookie: c } })).status, 200);
  const code = await runWebLogin(
    ['--set-password', '--data-dir', w.hub.dataDir],
    {},
    {
      ...io,
      readLine: async () => 'a-new-password-2026',
    },
  );
  t.is(code, 0);
  t.is((await fetch(`${w.base}/api/state`, { headers: { Cookie: c } })).status, 401);
  // An event stream of the old session is ended at its next update.
  const ended = new Promise<boolean>((resolve) => {
    void (async () => {
      for (;;) {
        const { done } = await reader.read();
        if (done) return resolve(true);
      }
    })().catch(() => resolve(true));
  });
  w.hub.hub.access.pairing.open(1);
  t.true(await ended);
  t.is((await login(w)).status, 303);
  t.is((await login(w)).headers.get('location'), '/login?failed=1');
  const fresh = await login(w, 'a-new-password-2026');
  t.truthy(fresh.headers.get('set-cookie'));
  // The first password is no longer kept in the clear once one's own is set.
  t.is(readWebLogin(w.hub.dataDir)?.initial_password, undefined);
  out.length = 0;
  t.is(
    await runWebLogin(['--data-dir', w.hub.dataDir], {}, { ...io, readLine: async () => '' }),
    0,
  );
  t.regex(out.join(''), /password: \(one you set/);
  t.notRegex(out.join(''), /a-new-password-2026/);
});

test('users and pairing from the page, as `babel-hub user` and `pair` do it; the event stream follows', async (t) => {
  const w = await startWeb();
  t.teardown(() => w.hub.stop());
  const c = await session(w);
  const events = await fetch(`${w.base}/api/events`, { headers: { Cookie: c } });
  t.is(events.status, 200);
  t.regex(events.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = events.body!.getReader();
  let buffered = '';
  const nextState = async (): Promise<Record<string, unknown>> => {
    for (;;) {
      const end = buffered.indexOf('\n\n');
      if (end >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (/^event: state$/m.test(block) && data)
          return JSON.parse(data) as Record<string, unknown>;
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended');
      buffered += new TextDecoder().decode(value);
    }
  };
  t.like(await nextState(), { users: [], pairing: { state: 'closed' } });

  const added = await post(w, '/api/users/add', c, { name: 'Garage' });
  t.is(added.status, 200);
  const { name, secret } = (await added.json()) as { name: string; secret: string };
  t.is(name, 'garage');
  t.regex(secret, /^[a-z2-9]{20}$/);
  const u = w.hub.hub.accounts.getByName('garage');
  t.true(await w.hub.hub.accounts.checkSecret(u!.id, secret));
  t.like(await nextState(), { users: [{ name: 'garage', hasSecret: true }] });

  t.is((await post(w, '/api/users/add', c, { name: 'garage' })).status, 409);
  t.is((await post(w, '/api/users/add', c, { name: 'no spaces' })).status, 400);
  const given = await post(w, '/api/users/secret', c, { name: 'garage', secret: 'my-own-secret' });
  t.deepEqual(await given.json(), {});
  t.true(await w.hub.hub.accounts.checkSecret(u!.id, 'my-own-secret'));
  t.is((await post(w, '/api/users/secret', c, { name: 'nobody' })).status, 404);

  t.is((await post(w, '/api/pairing', c, { minutes: 3 })).status, 200);
  let s = await nextState();
  while ((s.pairing as { state: string }).state !== 'open') s = await nextState();
  t.true(((s.pairing as { until: number }).until ?? 0) > Date.now());

  t.is((await post(w, '/api/users/remove', c, { name: 'garage' })).status, 200);
  t.is(w.hub.hub.accounts.getByName('garage'), undefined);
  t.is((await post(w, '/api/users/remove', c, { name: 'garage' })).status, 404);
  await reader.cancel();
});

test('http_port 0 serves no page; a taken port is logged and the hub runs on', async (t) => {
  const off = await startHub(['--http-port', '0']);
  t.teardown(() => off.stop());
  t.is(off.hub.httpPort, 0);
  t.is(readWebLogin(off.dataDir), null);
  const w = await startWeb();
  t.teardown(() => w.hub.stop());
  const second = await startHub(['--http-port', String(w.hub.hub.httpPort)]);
  t.teardown(() => second.stop());
  t.is(second.hub.httpPort, 0);
  t.true(second.hub.textPort > 0);
});

test('the metrics token is a bearer token; the admin password is not one', async (t) => {
  const w = await startWeb();
  t.teardown(() => w.hub.stop());
  const token = readWebLogin(w.hub.dataDir)!.metrics_token;
  const ok = await fetch(`${w.base}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
  t.is(ok.status, 200);
  t.regex(ok.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  for (const auth of [`Bearer ${w.password}`, `Bearer ${token}x`, `Basic ${token}`, '']) {
    const res = await fetch(`${w.base}/metrics`, { headers: { Authorization: auth } });
    t.is(res.status, 401, auth);
  }
  await setAdminPassword(w.hub.dataDir, 'another-password-1');
  t.is(readWebLogin(w.hub.dataDir)!.metrics_token, token, 'a new password keeps the token');
});

test('[G-1] groups from the page, as `babel-hub group add|remove` does them', async (t) => {
  const w = await startWeb();
  t.teardown(() => w.hub.stop());
  const c = await session(w);
  for (const name of ['door', 'kitchen', 'hall']) {
    t.is((await post(w, '/api/users/add', c, { name })).status, 200);
  }
  const add = await post(w, '/api/groups', c, {
    op: 'add',
    name: 'flats',
    members: ['kitchen', 'hall'],
  });
  t.is(add.status, 200);
  t.like(await add.json(), { op: 'add', created: true });
  t.deepEqual(
    w.hub.hub.accounts.groups.get('flats')?.members.map((m) => m.name),
    ['hall', 'kitchen'],
  );
  const state = (await (await fetch(`${w.base}/api/state`, { headers: { Cookie: c } })).json()) as {
    groups: unknown;
  };
  t.deepEqual(state.groups, [
    {
      name: 'flats',
      members: [
        { name: 'hall', state: 'offline' },
        { name: 'kitchen', state: 'offline' },
      ],
    },
  ]);
  // refused: an unknown member, a user's name, no members, a non-member; nothing changes
  const unknown = await post(w, '/api/groups', c, {
    op: 'add',
    name: 'flats',
    members: ['nobody'],
  });
  t.is(unknown.status, 400);
  t.regex(((await unknown.json()) as { error: string }).error, /nobody/);
  t.is(
    (await post(w, '/api/groups', c, { op: 'add', name: 'door', members: ['hall'] })).status,
    400,
  );
  t.is((await post(w, '/api/groups', c, { op: 'add', name: 'flats', members: [] })).status, 400);
  t.is(
    (await post(w, '/api/groups', c, { op: 'add', name: 'flats', members: 'hall' })).status,
    400,
  );
  t.is((await post(w, '/api/groups', c, { op: 'drop', name: 'flats' })).status, 400);
  t.is(
    (await post(w, '/api/groups', c, { op: 'remove', name: 'flats', members: ['door'] })).status,
    400,
  );
  t.is(w.hub.hub.accounts.groups.get('flats')?.members.length, 2);
  t.is(
    (await post(w, '/api/groups', c, { op: 'remove', name: 'flats', members: ['hall'] })).status,
    200,
  );
  t.deepEqual(
    w.hub.hub.accounts.groups.get('flats')?.members.map((m) => m.name),
    ['kitchen'],
  );
  t.is((await post(w, '/api/groups', c, { op: 'remove', name: 'flats' })).status, 200);
  t.is(w.hub.hub.accounts.groups.get('flats'), undefined);
  t.is((await post(w, '/api/groups', c, { op: 'remove', name: 'flats' })).status, 404);
});
