/**
 * Logging: pino JSON, one line per event, on stdout. `main.ts` makes the one root logger
 * with `createLogger` and passes `log.child({ mod })` down; nothing here is global.
 *
 * Every line is JSON with each key once, so `jq` and pino-pretty read it as written. pino
 * itself writes a key twice when a child binds a key its parent bound (`mod` under `mod`)
 * or a log call's object repeats a binding (`{ name }` beside the logger's `name`); JSON
 * readers then keep the later value. The root logger made here keeps exactly that later
 * value and drops the earlier one: a child's bindings replace its parent's, and a log
 * call's object replaces the bindings it repeats, for that line only.
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
  const options: pino.LoggerOptions = {
    level,
    name,
    base: { pid: process.pid },
    onChild: (child) => {
      const own = child as unknown as Record<symbol, string>;
      own[chindingsSym] = uniqueBindings(own[chindingsSym] ?? '');
    },
    hooks: { logMethod: logWithoutRepeats },
  };
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}

const { chindingsSym } = pino.symbols;

/** pino's bindings text (`,"pid":1,"mod":"a","mod":"b"`) with each key once, the later value kept. */
function uniqueBindings(chindings: string): string {
  if (chindings === '') return chindings;
  const json = JSON.stringify(JSON.parse(`{${chindings.slice(1)}}`) as unknown);
  return json === '{}' ? '' : `,${json.slice(1, -1)}`;
}

const boundKeysCache = new WeakMap<object, { chindings: string; keys: ReadonlySet<string> }>();

function boundKeys(logger: object, chindings: string): ReadonlySet<string> {
  const cached = boundKeysCache.get(logger);
  if (cached?.chindings === chindings) return cached.keys;
  const keys = new Set(chindings === '' ? [] : Object.keys(JSON.parse(`{${chindings.slice(1)}}`)));
  boundKeysCache.set(logger, { chindings, keys });
  return keys;
}

/** pino's `logMethod` hook: a log object that repeats a binding logs through a view without it. */
function logWithoutRepeats(
  this: pino.Logger,
  args: Parameters<pino.LogFn>,
  method: pino.LogFn,
): void {
  const obj = args[0] as unknown;
  if (typeof obj !== 'object' || obj === null || obj instanceof Error || Array.isArray(obj)) {
    method.apply(this, args);
    return;
  }
  const self = this as unknown as Record<symbol, string>;
  const chindings = self[chindingsSym] ?? '';
  const bound = boundKeys(this, chindings);
  const repeated = Object.entries(obj).filter(([k, v]) => v !== undefined && bound.has(k));
  if (repeated.length === 0) {
    method.apply(this, args);
    return;
  }
  const kept = JSON.parse(`{${chindings.slice(1)}}`) as Record<string, unknown>;
  for (const [k] of repeated) delete kept[k];
  const json = JSON.stringify(kept);
  const view = Object.create(this) as Record<symbol, string>;
  view[chindingsSym] = json === '{}' ? '' : `,${json.slice(1, -1)}`;
  method.apply(view as unknown as pino.Logger, args);
}
