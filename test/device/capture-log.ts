import { Writable } from 'node:stream';
import pino from 'pino';

/** A debug-level pino logger whose records are kept, parsed, for assertions. */
export function captureLog(level = 'debug') {
  const records: Array<Record<string, unknown> & { level: number; msg: string }> = [];
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        lines.push(line);
        records.push(JSON.parse(line));
      }
      done();
    },
  });
  const log = pino({ level }, pino.multistream([{ stream: sink, level: 'trace' }]));
  return { log, records, lines };
}
