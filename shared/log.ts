/**
 * Logging: pino JSON, one line per event, on stdout. `main.ts` makes the one root logger
 * with `createLogger` and passes `log.child({ mod })` down; nothing here is global.
 */
import pino from 'pino';

/** The levels `--log-level` accepts, most to least severe; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of `LOG_LEVELS`. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The root logger: JSON lines to `destination` (stdout, written synchronously so nothing
 * is lost on SIGTERM, by default), `{ pid, name }` on every line, no hostname. Throws on
 * a level pino does not know; config validation rejects those first.
 */
export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  name = 'babel',
): pino.Logger {
  const options: pino.LoggerOptions = { level, name, base: { pid: process.pid } };
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}
