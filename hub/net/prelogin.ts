import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { HubContext } from '../context.ts';
import type { PeerAddress } from './address.ts';

/** What a connection tells its pre-login watch: it has logged in (idempotent). */
export interface LoginWatch {
  loggedIn(): void;
}

/**
 * [S-8] A new connection's first hurdle, for every listener and both dialects: it takes a
 * place among the connections that have not logged in yet (at most `perAddress` from its
 * address and `total` in all, one `PreLoginGate` per hub), or is closed at once. Admitted,
 * it has `loginDeadlineMs` from accept to log in; bytes it sends do not extend that (they
 * do extend the idle timeout [T-12], which is why a slow talker could once stay for good).
 * Once logged in, the connection gives its place back and lives by the idle timeout alone.
 * Returns null when the connection was refused (and destroyed).
 */
export function watchLogin(
  ctx: HubContext,
  stream: Duplex,
  peer: PeerAddress,
  log: Logger,
): LoginWatch | null {
  const ticket = ctx.access.gate.admit(peer.address);
  if (!ticket) {
    log.debug(
      { pending: ctx.access.gate.pending, refused: ctx.access.gate.refused },
      'too many connections waiting to log in; closed at accept',
    );
    stream.destroy();
    return null;
  }
  const deadline = ctx.clock.setTimeout(() => {
    log.debug('no login within the deadline, closing');
    stream.destroy();
  }, ctx.limits.loginDeadlineMs);
  const done = () => {
    deadline.cancel();
    ticket.release();
  };
  stream.once('close', done);
  return { loggedIn: done };
}
