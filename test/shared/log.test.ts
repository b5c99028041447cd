import { Writable } from 'node:stream';
import test from 'ava';
import YAML from 'yaml';
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

/** Parses one JSON line, failing on a key that appears twice in one object (JSON.parse keeps the last silently). */
function strictParse(line: string): Record<string, unknown> {
  const doc = YAML.parseDocument(line, { uniqueKeys: true, version: '1.2' });
  if (doc.errors.length > 0) throw new Error(`${doc.errors[0]!.message.split('\n')[0]}: ${line}`);
  return JSON.parse(line) as Record<string, unknown>;
}

function rawSink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

test('the strict parse catches a duplicate key', (t) => {
  t.throws(() => strictParse('{"mod":"a","x":1,"mod":"b"}'), { message: /duplicate|unique/i });
  t.deepEqual(strictParse('{"mod":"a","x":{"mod":"b"}}'), { mod: 'a', x: { mod: 'b' } });
});

test('no line carries a key twice: a child repeating its parent, a log object repeating a binding', (t) => {
  const { lines, stream } = rawSink();
  const log = createLogger('info', stream, 'babel-device');
  const button = log
    .child({ mod: 'button', spec: 'stdin' })
    .child({ mod: 'button', button: 'stdin' });
  button.info('pressed');
  log.child({ mod: 'door' }).child({ mod: 'gpio-out' }).info('relay on');
  log.info({ name: 'door', hub: '127.0.0.1:4242' }, 'device started');
  button.info({ mod: 'button', spec: 'other' }, 'again');
  log.child({ mod: 'hub' }).info({ pid: 7 }, 'odd');
  t.is(lines.length, 5);
  for (const l of lines) t.notThrows(() => strictParse(l), l);
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  // The same values jq and JSON.parse read before: the later (more specific) one.
  t.like(parsed[0], { name: 'babel-device', mod: 'button', spec: 'stdin', button: 'stdin' });
  t.like(parsed[1], { mod: 'gpio-out', msg: 'relay on' });
  t.like(parsed[2], { name: 'door', hub: '127.0.0.1:4242' });
  t.like(parsed[3], { mod: 'button', spec: 'other', button: 'stdin' });
  t.like(parsed[4], { pid: 7, mod: 'hub' });
  // A line without a collision is untouched, and its parent still logs its own bindings.
  log.child({ mod: 'x' }).info('plain');
  t.like(strictParse(lines[5]!), { name: 'babel-device', mod: 'x', pid: process.pid });
});
