import type { Logger } from 'pino';
import type { SessionSpec } from './types.ts';

/**
 * [T-8] Says who took a name from whom: a device reconnecting from where it was is
 * routine (info); another address is most often two devices configured with one name,
 * which then take it from each other (warn).
 */
export function logTakeover(log: Logger, old: SessionSpec, now: SessionSpec): void {
  const from = `${old.media.ip}:${old.media.port}`;
  const by = `${now.media.ip}:${now.media.port}`;
  if (from === by) {
    log.info(
      { user: now.user.name, address: by },
      'session replaced by a new connection from the same address',
    );
  } else {
    log.warn(
      { user: now.user.name, from, by, dialect: now.dialect },
      'name taken over by another address (media ip:port); two devices may share this name',
    );
  }
}
