import pino from 'pino';

/** A silent pino logger for tests (set BABEL_TEST_LOG=debug to see output). */
export const testLog = pino({ level: process.env.BABEL_TEST_LOG ?? 'silent' });

/** A logger at `level` that keeps every record it writes, parsed, for tests to inspect. */
export function capturingLog(level = 'debug'): {
  log: pino.Logger;
  records: Array<Record<string, unknown>>;
  text: () => string;
} {
  const raw: string[] = [];
  const log = pino({ level }, { write: (line: string) => void raw.push(line) });
  return {
    log,
    get records() {
      return raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    text: () => raw.join(''),
  };
}
