import type net from 'node:net';
import type { Logger } from 'pino';
import type { ConnectionLimits } from '../context.ts';

/**
 * Protections every hub connection gets, whatever the dialect: the idle timeout [T-12],
 * a cap on output queued for a client that does not read, and socket errors logged
 * instead of thrown. `write` returns false once the connection is being dropped.
 */
export function guardSocket(
  socket: net.Socket,
  limits: ConnectionLimits,
  log: Logger,
): (data: string | Buffer) => boolean {
  socket.setKeepAlive(true, 30_000);
  // [T-12] Silence is the client's: only bytes from it restart the clock. `socket.setTimeout`
  // would also count the hub's own writes, which a dead peer's kernel keeps accepting, so a
  // user rung every minute would stay online forever after its device died.
  const idle = setTimeout(() => {
    log.info('idle timeout, closing');
    socket.destroy();
  }, limits.idleTimeoutMs);
  socket.on('data', () => idle.refresh());
  socket.once('close', () => clearTimeout(idle));
  socket.on('error', (err) => log.debug({ err }, 'socket error'));
  return (data) => {
    if (socket.destroyed || !socket.writable) return false;
    if (socket.writableLength > limits.maxOutputBytes) {
      log.warn({ queued: socket.writableLength }, 'client does not read, dropping it');
      socket.destroy();
      return false;
    }
    socket.write(data);
    return true;
  };
}
