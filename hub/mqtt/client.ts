/**
 * How the bridge uses MQTT.js: the client options (the retained `offline` last will, no
 * reconnection of MQTT.js's own), a URL fit for logs, and a bounded wait on a callback.
 */
import type { IClientOptions } from 'mqtt';
import { OFFLINE } from '../../protocol/mqtt/topics.ts';

/** Every hub publication and subscription is QoS 1 (docs/mqtt.md). */
export const QOS = 1;

/**
 * Options for `mqtt.connect`: a clean session whose last will marks `bridgeState`
 * `offline`, retained. Reconnection is the bridge's (backoff with jitter), not MQTT.js's.
 */
export function clientOptions(
  clientId: string,
  bridgeState: string,
  auth: { readonly username?: string | undefined; readonly password?: string | undefined },
): IClientOptions {
  const o: IClientOptions = {
    clientId,
    clean: true,
    keepalive: 30,
    connectTimeout: 10_000,
    // Reconnection is ours (backoff with jitter); MQTT.js's is a fixed period.
    reconnectPeriod: 0,
    resubscribe: false,
    queueQoSZero: false,
    will: {
      topic: bridgeState,
      payload: Buffer.from(OFFLINE),
      qos: QOS,
      retain: true,
    },
  };
  if (auth.username !== undefined) o.username = auth.username;
  if (auth.password !== undefined) o.password = auth.password;
  return o;
}

/** The URL without a password (`mqtt://user:pw@host` -> `mqtt://user:***@host`). */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/**
 * Calls `fn(done)`; true if `done` came within `ms`. Real time, not the injected clock:
 * this bounds waiting on a socket, and a test's fake clock must not hang `stop()`.
 */
export function within(ms: number, fn: (done: () => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    try {
      fn(() => {
        clearTimeout(t);
        resolve(true);
      });
    } catch {
      clearTimeout(t);
      resolve(false);
    }
  });
}
