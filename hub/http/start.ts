/**
 * Starts the web page (docs/web.md) beside the hub's listeners: `http_port` on `host`,
 * off with 0, in HTTPS with the hub's identity [S-2] and in plain HTTP as `plaintext`
 * allows (plain-policy.ts). A port already taken is logged at error and the hub runs on without the
 * page (as with a taken TLS port): calls never depend on it. The admin login and the
 * metrics token are made after the bind, on the first start that serves the page.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import type { HubConfig } from '../config-schema.ts';
import type { ControlHandler } from '../control/server.ts';
import type { HubMetrics } from '../metrics/metrics.ts';
import { serverContext } from '../net/tls.ts';
import type { Access } from '../security/access.ts';
import type { AccountStore } from '../store/accounts.ts';
import { WebActions } from './actions.ts';
import { WebAuth } from './auth.ts';
import { loadOrCreateWebLogin } from './credentials.ts';
import { coveredPageUrls, type PageUrls, pageUrls } from './plain-policy.ts';
import { WebServer } from './server.ts';
import type { HubView } from './view.ts';

export interface WebParts {
  readonly config: HubConfig;
  readonly clock: Clock;
  readonly log: Logger;
  readonly accounts: AccountStore;
  readonly access: Access;
  readonly view: HubView;
  readonly metrics: HubMetrics;
  readonly status: () => object;
  /** [G-1] The hub's `group` control command. */
  readonly group: ControlHandler;
  /** [S-2] The hub's certificate and key (PEM) and its fingerprint. */
  readonly identity: { cert: Buffer; key: Buffer; fingerprint: string };
  /** [S-8] A connection without a request this long after accept is closed. */
  readonly deadlineMs?: number;
}

/** Where the page is, as the startup log and `babel-hub status` tell it. */
export interface WebUrls extends PageUrls {
  /** [S-2] Of the certificate the HTTPS side shows: compare with the browser's warning. */
  readonly fingerprint: string;
}

export interface RunningWeb {
  readonly port: number;
  readonly urls: WebUrls;
  stop(): Promise<void>;
}

/** The running page, or null when `http_port` is 0 or its port was taken. */
export async function startWeb(parts: WebParts): Promise<RunningWeb | null> {
  const { config, log } = parts;
  if (config.http_port === 0) return null;
  const auth = new WebAuth({
    dataDir: config.data_dir,
    clock: parts.clock,
    throttle: parts.access.throttle,
  });
  const actions = new WebActions({
    accounts: parts.accounts,
    pairing: parts.access.pairing,
    changed: () => parts.view.changed(),
    group: parts.group,
  });
  const server = new WebServer({
    auth,
    view: parts.view,
    actions,
    metrics: parts.metrics,
    status: parts.status,
    clock: parts.clock,
    log,
    secureContext: serverContext(parts.identity),
    plaintext: config.plaintext,
    ...(parts.deadlineMs === undefined ? {} : { deadlineMs: parts.deadlineMs }),
  });
  let port: number;
  try {
    port = await server.listen(config.http_port, config.host);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    log.error({ err, port: config.http_port }, 'web port in use; running without the web page');
    return null;
  }
  try {
    const { created } = await loadOrCreateWebLogin(config.data_dir);
    if (created) {
      log.info('web login made; `babel-hub web-login` shows the admin password and metrics token');
    }
  } catch (err) {
    await server.stop();
    throw err;
  }
  const page = coveredPageUrls(
    pageUrls(config.host, port, config.plaintext),
    certificateNames(parts.identity.cert),
  );
  const urls = { ...page.urls, fingerprint: parts.identity.fingerprint };
  log.info({ listener: 'http', address: config.host, port, ...urls }, 'listening');
  if (page.uncovered !== null) {
    // [S-2] A certificate made before the hub named the machine's addresses (devices pin
    // it, so it is kept), or the user's own `tls.cert` for other names.
    const open = urls.lan_url.includes(page.uncovered) ? '' : `; open ${urls.lan_url}`;
    log.warn(
      { address: page.uncovered, lan_url: urls.lan_url },
      `the hub's certificate does not name ${page.uncovered}: a browser at that address warns of another name${open}`,
    );
  }
  if (config.plaintext === 'all') {
    // [S-11] the dialects' warning says it of their ports; this one of the page
    log.warn(
      { port },
      'the web page is served in plain HTTP to the network too (plaintext: all): its admin password and session cross it in clear; open it in https',
    );
  }
  return { port, urls, stop: () => server.stop() };
}

/** [S-2] Whether the certificate is for `host` (a DNS name or an IP address). */
function certificateNames(pem: Buffer): (host: string) => boolean {
  const cert = new X509Certificate(pem);
  return (host) => (isIP(host) ? cert.checkIP(host) : cert.checkHost(host)) !== undefined;
}
