/**
 * Starts the web page (docs/web.md) beside the hub's listeners: `http_port` on `host`,
 * off with 0. A port already taken is logged at error and the hub runs on without the
 * page (as with a taken TLS port): calls never depend on it. The admin login and the
 * metrics token are made after the bind, on the first start that serves the page.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import type { HubConfig } from '../config-schema.ts';
import type { ControlHandler } from '../control/server.ts';
import type { HubMetrics } from '../metrics/metrics.ts';
import type { Access } from '../security/access.ts';
import type { AccountStore } from '../store/accounts.ts';
import { WebActions } from './actions.ts';
import { WebAuth } from './auth.ts';
import { loadOrCreateWebLogin } from './credentials.ts';
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
}

export interface RunningWeb {
  readonly port: number;
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
  const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  log.info(
    { listener: 'http', address: config.host, port, url: `http://${shown}:${port}/` },
    'listening',
  );
  return { port, stop: () => server.stop() };
}
