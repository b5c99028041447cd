import tls from 'node:tls';
import type { Logger } from 'pino';
import type { Handle } from './address.ts';

/** What a TLS listener serves with: the hub's certificate and key [S-2] (PEM). */
export interface TlsIdentity {
  readonly cert: Buffer | string;
  readonly key: Buffer | string;
}

/** [S-1] TLS 1.2 at least, 1.3 preferred (Node negotiates the highest both speak). */
export function serverContext(identity: TlsIdentity): tls.SecureContext {
  return tls.createSecureContext({
    cert: identity.cert,
    key: identity.key,
    minVersion: 'TLSv1.2',
  });
}

/**
 * [S-1] A dialect served inside TLS: each stream handed over (an accepted TCP socket, or
 * one end of an in-process pipe in tests) is wrapped in a server-side TLS socket, which
 * goes to the dialect at once, its peer marked `secure`. So the dialect's protections see
 * the handshake as part of the connection: the pre-login gate and the login deadline
 * [S-8] count from accept, a handshake that never finishes runs into that deadline, and
 * a failed one (a plaintext client, garbage) is a stream error, logged at debug. Closing
 * the TLS socket closes the stream under it, so nothing leaks.
 */
export function secureHandle(handle: Handle, context: tls.SecureContext, log: Logger): Handle {
  return (raw, peer) => {
    const secure = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext: context,
    });
    raw.on('error', () => {}); // reported through the TLS socket
    secure.on('error', (err) => log.debug({ err: err.message, peer: peer.address }, 'tls error'));
    secure.once('close', () => raw.destroy());
    handle(secure, { ...peer, secure: true });
  };
}
