/**
 * The subcommands' side of the control socket (hub/control/server.ts): one request, one
 * reply. A hub that is not running is told apart from one that refused.
 */
import net from 'node:net';
import path from 'node:path';
import { CONTROL_SOCKET } from './server.ts';

/** No hub answers on this data directory's control socket. */
export class HubNotRunningError extends Error {
  constructor(file: string, cause: unknown) {
    super(`the hub is not running (nothing answers on ${file}); start it first`, { cause });
    this.name = 'HubNotRunningError';
  }
}

/** Sends one request to the running hub; resolves with its reply, rejects when none. */
export function controlRequest(
  dataDir: string,
  request: { cmd: string } & Record<string, unknown>,
  timeoutMs = 5000,
): Promise<Record<string, unknown>> {
  const file = path.join(dataDir, CONTROL_SOCKET);
  return new Promise((resolve, reject) => {
    const socket = net.connect(file);
    let buffered = '';
    let connected = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the hub did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (fn: () => void) => {
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    socket.setEncoding('utf8');
    socket.once('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      const line = buffered.slice(0, nl);
      finish(() => {
        try {
          resolve(JSON.parse(line) as Record<string, unknown>);
        } catch {
          reject(new Error('the hub answered something that is not JSON'));
        }
      });
    });
    socket.once('error', (err) =>
      finish(() => reject(connected ? err : new HubNotRunningError(file, err))),
    );
    socket.once('close', () => finish(() => reject(new Error('the hub closed without answering'))));
  });
}
