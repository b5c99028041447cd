/**
 * The hub's web server (docs/web.md) on `http_port` (8090; 0 = off), bound on `host`:
 * the status page, its JSON API and server-sent events, `/metrics` and `/healthz`.
 *
 * Everything but `/healthz` and the login page needs the admin's session cookie
 * (`/metrics` also takes `Authorization: Bearer <metrics token>`). Every POST must come
 * from the page itself: a session cookie (`SameSite=Strict`), an `Origin` (or
 * `Sec-Fetch-Site`) of this very host, and for the API a JSON body, which a cross-site
 * form cannot send. Bodies are capped at 8 KiB, event streams at `maxStreams`.
 *
 * The port speaks HTTPS with the hub's certificate [S-2] and plain HTTP (one-port.ts);
 * plain HTTP is served only as `plaintext` allows (plain-policy.ts), anything else in plain
 * is sent to HTTPS before its cookie, token or body is looked at. Cookies set over HTTPS are
 * `Secure`.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../shared/clock.ts';
import type { HubMetrics } from '../metrics/metrics.ts';
import { ActionError, type WebActions } from './actions.ts';
import { CLEAR_COOKIE, type WebAuth } from './auth.ts';
import { OnePort } from './one-port.ts';
import { httpsLocation, type PlaintextPolicy, plainServed } from './plain-policy.ts';
import { readBody, readJson, SECURITY_HEADERS, sendJson } from './respond.ts';
import type { HubView } from './view.ts';

const STATIC = new URL('./static/', import.meta.url);
const PAGES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/app.css': ['app.css', 'text/css; charset=utf-8'],
  '/login': ['login.html', 'text/html; charset=utf-8'],
} as const;
type PagePath = keyof typeof PAGES;

export interface WebServerOptions {
  auth: WebAuth;
  view: HubView;
  actions: WebActions;
  metrics: HubMetrics;
  /** Extra facts for `GET /api/state` (listeners, uptime), as `babel-hub status` has them. */
  status: () => object;
  clock: Clock;
  log: Logger;
  maxStreams?: number;
  /** Event streams send at most one update per this many ms. */
  coalesceMs?: number;
  /** The hub's certificate and key [S-2], for the HTTPS side of the port. */
  secureContext: tls.SecureContext;
  /** [S-1] Who gets plain HTTP (plain-policy.ts). */
  plaintext: PlaintextPolicy;
  /** From accept to a first request (TLS handshake included); 10 s by default. */
  deadlineMs?: number;
}

export class WebServer {
  readonly #o: WebServerOptions;
  readonly #server: http.Server;
  readonly #port: OnePort;
  /** Open event streams, with the cookie header each was opened with. */
  readonly #streams = new Map<http.ServerResponse, string | undefined>();
  readonly #files = new Map<string, Buffer>();
  #pending: Timer | null = null;
  #heartbeat: Timer | null = null;
  #unsubscribe: () => void = () => {};

  constructor(opts: WebServerOptions) {
    this.#o = opts;
    for (const [, [file]] of Object.entries(PAGES)) {
      this.#files.set(file, fs.readFileSync(new URL(file, STATIC)));
    }
    this.#server = http.createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        this.#o.log.error({ err, url: req.url }, 'web request failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    });
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 15_000;
    this.#server.on('clientError', (_err, socket) => socket.destroy());
    // `Expect: 100-continue`: a plain request that is not served is answered before the
    // client even sends its body (a password stays on the client); the others go on.
    this.#server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (!this.#plainRefused(req)) res.writeContinue();
      this.#server.emit('request', req, res);
    });
    this.#port = new OnePort({
      http: this.#server,
      secureContext: opts.secureContext,
      clock: opts.clock,
      deadlineMs: opts.deadlineMs ?? 10_000,
      log: opts.log,
      maxConnections: 256,
    });
  }

  /** Binds; resolves with the bound port. */
  async listen(port: number, host: string): Promise<number> {
    const server = this.#port.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.#o.log.error({ err }, 'web server error'));
    // The http server never listens itself (the port hands it its sockets): this starts
    // its connection tracking, which its header and request timeouts run on.
    this.#server.emit('listening');
    this.#unsubscribe = this.#o.view.onChange(() => this.#schedule());
    this.#heartbeat = this.#o.clock.setInterval(() => {
      this.#send(': keep-alive\n\n');
    }, 20_000);
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.#unsubscribe();
    this.#pending?.cancel();
    this.#heartbeat?.cancel();
    for (const res of this.#streams.keys()) res.end();
    this.#streams.clear();
    const closed = this.#port.close();
    this.#server.closeAllConnections();
    this.#server.close(() => {}); // not listening: only ends its timers
    await closed;
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://hub');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const secure = (req.socket as tls.TLSSocket).encrypted === true;
    // the path only: never a query, a header or a body (cookies and passwords live there)
    if (this.#o.log.isLevelEnabled('trace')) {
      this.#o.log.trace({ method, path, tls: secure }, 'web request');
    }
    // (decision) /healthz answers in plain to anyone: it carries nothing either way
    if (path === '/healthz' && (method === 'GET' || method === 'HEAD')) {
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    if (this.#plainRefused(req)) {
      this.#toHttps(req, res, method, path);
      return;
    }
    if (path === '/login' && method === 'GET') {
      const msg = url.searchParams.has('failed') ? 'Wrong password.' : '';
      return this.#page(res, '/login', msg);
    }
    if (path === '/login' && method === 'POST') return this.#login(req, res, secure);
    if (path === '/metrics' && method === 'GET') {
      if (!this.#o.auth.metricsToken(req.headers.authorization) && !this.#session(req)) {
        res.writeHead(401, {
          ...SECURITY_HEADERS,
          'WWW-Authenticate': 'Bearer realm="babel-hub metrics"',
          'Content-Type': 'text/plain; charset=utf-8',
        });
        res.end('a bearer token (babel-hub web-login) or a session is needed\n');
        return;
      }
      const { contentType, body } = await this.#o.metrics.text();
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': contentType });
      res.end(body);
      return;
    }
    if (!this.#session(req)) {
      if (method === 'GET' && !path.startsWith('/api/')) {
        res.writeHead(303, { ...SECURITY_HEADERS, Location: '/login' });
        res.end();
      } else sendJson(res, 401, { error: 'log in first' });
      return;
    }
    if (method === 'GET' && Object.hasOwn(PAGES, path)) return this.#page(res, path as PagePath);
    if (method === 'GET' && path === '/api/state') {
      sendJson(res, 200, this.#state());
      return;
    }
    if (method === 'GET' && path === '/api/events') return this.#events(req, res);
    if (method === 'POST') {
      if (!this.#sameOrigin(req, secure)) {
        sendJson(res, 403, { error: 'cross-origin request refused' });
        return;
      }
      if (path === '/logout') {
        this.#o.auth.logout(req.headers.cookie);
        const clear = secure ? `${CLEAR_COOKIE}; Secure` : CLEAR_COOKIE;
        res.writeHead(303, { ...SECURITY_HEADERS, 'Set-Cookie': clear, Location: '/login' });
        res.end();
        return;
      }
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
        sendJson(res, 415, { error: 'send JSON (Content-Type: application/json)' });
        return;
      }
      const body = await readJson(req, res);
      if (body === undefined) return;
      await this.#action(path, body, res);
      return;
    }
    sendJson(res, 404, { error: 'not found' });
  }

  async #action(path: string, body: Record<string, unknown>, res: http.ServerResponse) {
    const a = this.#o.actions;
    try {
      let out: unknown;
      if (path === '/api/pairing') {
        out = body.open === false ? a.closePairing() : a.pair(body.minutes);
      } else if (path === '/api/users/add') out = await a.addUser(body.name, body.secret);
      else if (path === '/api/users/remove') {
        a.removeUser(body.name);
        out = {};
      } else if (path === '/api/users/secret') out = await a.setSecret(body.name, body.secret);
      else if (path === '/api/groups') out = a.group(body.op, body.name, body.members);
      else {
        sendJson(res, 404, { error: 'not found' });
        return;
      }
      this.#o.log.info({ action: path }, 'web admin action');
      sendJson(res, 200, out);
    } catch (err) {
      if (err instanceof ActionError) sendJson(res, err.status, { error: err.message });
      else throw err;
    }
  }

  /** Whether `req` came in plain HTTP where `plaintext` does not serve it (plain-policy.ts). */
  #plainRefused(req: http.IncomingMessage): boolean {
    const { socket } = req;
    if ((socket as tls.TLSSocket).encrypted === true) return false;
    return !plainServed(this.#o.plaintext, socket.localAddress, socket.remoteAddress);
  }

  /**
   * A plain request `plaintext` does not serve: a GET goes to the same URL in HTTPS (308);
   * anything else is refused. Neither reads its cookie, token or body: a password that
   * came in clear over the network is never checked, a session never honoured.
   */
  #toHttps(req: http.IncomingMessage, res: http.ServerResponse, method: string, path: string) {
    const peer = req.socket.remoteAddress;
    this.#o.log.debug({ method, path, peer }, 'plain http request sent to https');
    const { localAddress, localPort } = req.socket;
    const to = (p: string) => httpsLocation(req.headers.host, localAddress, localPort ?? 0, p);
    const headers = { ...SECURITY_HEADERS, Connection: 'close' };
    if (method === 'GET' || method === 'HEAD') {
      res.writeHead(308, { ...headers, Location: to(req.url ?? '/'), 'Content-Length': 0 });
      res.end();
      return;
    }
    res.writeHead(403, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`plain HTTP from the network is refused unread; use ${to('/')}\n`);
  }

  async #login(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    secure: boolean,
  ): Promise<void> {
    if (!this.#sameOrigin(req, secure)) {
      sendJson(res, 403, { error: 'cross-origin request refused' });
      return;
    }
    const raw = await readBody(req, res);
    if (raw === undefined) return;
    const password = new URLSearchParams(raw).get('password') ?? '';
    const address = req.socket.remoteAddress ?? 'unknown';
    const outcome = await this.#o.auth.login(address, password);
    if (outcome.ok) {
      this.#o.metrics.webLogin('ok');
      this.#o.log.info({ address }, 'web login');
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        'Set-Cookie': this.#o.auth.cookie(outcome.token, secure),
        Location: '/',
      });
      res.end();
      return;
    }
    const throttled = outcome.reason === 'throttled';
    this.#o.metrics.webLogin(throttled ? 'throttled' : 'failed');
    // [S-7] failures at info with the address, never the password; refusals while blocked at debug
    if (throttled) this.#o.log.debug({ address }, 'web login throttled');
    else this.#o.log.info({ address }, 'web login failed');
    const retry = Math.ceil((outcome.retryAfterMs ?? 0) / 1000);
    res.writeHead(throttled ? 429 : 303, {
      ...SECURITY_HEADERS,
      Location: `/login?${throttled ? `wait=${retry}` : 'failed=1'}`,
      ...(throttled ? { 'Retry-After': String(retry), 'Content-Type': 'text/plain' } : {}),
    });
    res.end(throttled ? `too many failed logins; try again in ${retry} s\n` : undefined);
  }

  #events(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.#streams.size >= (this.#o.maxStreams ?? 32)) {
      sendJson(res, 503, { error: 'too many open pages' });
      return;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      Connection: 'keep-alive',
    });
    this.#streams.set(res, req.headers.cookie);
    req.socket.setTimeout(0);
    res.write(`retry: 2000\nevent: state\ndata: ${JSON.stringify(this.#state())}\n\n`);
    res.on('close', () => this.#streams.delete(res));
  }

  /** Sends the state to every stream, at most once per `coalesceMs`. */
  #schedule(): void {
    if (this.#pending || this.#streams.size === 0) return;
    this.#pending = this.#o.clock.setTimeout(() => {
      this.#pending = null;
      const data = `event: state\ndata: ${JSON.stringify(this.#state())}\n\n`;
      this.#send(data);
    }, this.#o.coalesceMs ?? 150);
  }

  /** Writes to every stream whose session still holds; ends the others (logged out, new password). */
  #send(data: string): void {
    for (const [res, cookie] of this.#streams) {
      if (this.#o.auth.session(cookie)) res.write(data);
      else {
        this.#streams.delete(res);
        res.end();
      }
    }
  }

  #state(): Record<string, unknown> {
    const a = this.#o.actions;
    return {
      ...this.#o.view.snapshot(),
      users: a.users(),
      groups: a.groups(),
      hub: this.#o.status(),
    };
  }

  #session(req: http.IncomingMessage): boolean {
    return this.#o.auth.session(req.headers.cookie);
  }

  /**
   * Whether a POST comes from a page of this host: `Origin` must name it (in the scheme
   * the request came by); without `Origin`, `Sec-Fetch-Site` must say same-origin. A
   * request with neither is refused.
   */
  #sameOrigin(req: http.IncomingMessage, secure: boolean): boolean {
    const host = req.headers.host;
    const origin = req.headers.origin;
    const scheme = secure ? 'https' : 'http';
    if (origin !== undefined) return host !== undefined && origin === `${scheme}://${host}`;
    return req.headers['sec-fetch-site'] === 'same-origin';
  }

  /** A static page; `message` (fixed text, never from the request) fills the login page's slot. */
  #page(res: http.ServerResponse, path: PagePath, message = ''): void {
    const [file, type] = PAGES[path];
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': type });
    const body = this.#files.get(file)!;
    res.end(message ? body.toString('utf8').replace('<!--MSG-->', message) : body);
  }
}
