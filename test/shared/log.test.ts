import { Writable } from 'node:stream';
import test from 'ava';
import { createLogger, LOG_LEVELS } from '../../shared/log.ts';

function sink() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') lines.push(JSON.parse(line));
      }
      done();
    },
  });
  return { lines, stream };
}

test('one JSON line per event with pid and name, no hostname', (t) => {
  const { lines, stream } = sink();
  const log = createLogger('info', stream, 'babel-hub');
  log.child({ mod: 'text' }).info({ peer: 'alice' }, 'hello');
  t.is(lines.length, 1);
  const [line] = lines;
  t.like(line, { pid: process.pid, name: 'babel-hub', mod: 'text', peer: 'alice', msg: 'hello' });
  t.false('hostname' in (line ?? {}));
});

test('the level filters, errors are serialised under err', (t) => {
  const { lines, stream } = sink();
  const log = createLogger('warn', stream);
  log.info('dropped');
  log.error({ err: new Error('boom') }, 'failed');
  t.is(lines.length, 1);
  t.like(lines[0], { msg: 'failed', name: 'babel', err: { message: 'boom', type: 'Error' } });
  t.false(log.isLevelEnabled('debug'));
});

test('every configurable level is one pino knows', (t) => {
  for (const level of LOG_LEVELS) t.is(createLogger(level, sink().stream).level, level);
  t.throws(() => createLogger('loud', sink().stream));
});
