import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import type { ConnectionLimits } from '../context.ts';

/**
 * Protections every hub connection gets, whatever the dialect and the stream under it: the
 * idle timeout [T-12], a cap on output queued for a client that does not read, and stream
 * errors logged instead of thrown. `write` returns false once the connection is being dropped.
 */
export function guardStream(
  stream: Duplex,
  clock: Clock,
  limits: ConnectionLimits,
  log: Logger,
): (data: string | Buffer) => boolean {
  // [T-12] Silence is the client's: only bytes from it restart the clock. A socket's own
  // `setTimeout` would also count the hub's writes, which a dead peer's kernel keeps
  // accepting, so a user rung every minute would stay online forever after its device died.
  // One timer at a time: when it falls due it closes the stream, or re-arms for the rest of
  // the timeout if the client spoke meanwhile.
  let heardAt = clock.now();
  const check = () => {
    const silent = clock.now() - heardAt;
    if (silent < limits.idleTimeoutMs) {
      idle = clock.setTimeout(check, limits.idleTimeoutMs - silent);
      return;
    }
    log.info('idle timeout, closing');
    stream.destroy();
  };
  let idle = clock.setTimeout(check, limits.idleTimeoutMs);
  stream.on('data', () => {
    heardAt = clock.now();
  });
  stream.once('close', () => idle.cancel());
  stream.on('error', (err) => log.debug({ err }, 'stream error'));
  return (data) => {
    if (stream.destroyed || !stream.writable) return false;
    if (stream.writableLength > limits.maxOutputBytes) {
      log.warn({ queued: stream.writableLength }, 'client does not read, dropping it');
      stream.destroy();
      return false;
    }
    stream.write(data);
    return true;
  };
}
