/**
 * Issue 14: the README's way to read the logs works on a Pi without the internet (no
 * `npx pino-pretty`, which downloads it); its `jq` filter formats real log lines and
 * passes anything else (a crash's stack trace) through unchanged.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import { createLogger } from '../../shared/log.ts';

const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
const hasJq = spawnSync('jq', ['--version']).status === 0;

test('the README suggests nothing that downloads at the moment of reading logs', (t) => {
  t.notRegex(readme, /npx (--yes )?pino-pretty/);
  t.regex(readme, /apt-get install -y jq/);
});

(hasJq ? test : test.skip)(
  'the README jq filter turns real log lines into one readable line each',
  (t) => {
    const filters = [...readme.matchAll(/\| jq -rR '([^']+)'/g)].map((m) => m[1]!);
    t.true(filters.length >= 2, 'the filter is shown where the README reads logs');
    t.is(new Set(filters).size, 1, 'the same filter everywhere');
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger('info', sink, 'babel-device');
    log.child({ mod: 'hub' }).info({ hub: '127.0.0.1:4242' }, 'registered with the hub');
    log.warn('no mod here');
    const input = `${lines.join('')}Error: boom\n    at somewhere\n`;
    const out = execFileSync('jq', ['-rR', filters[0]!], { input }).toString().split('\n');
    t.regex(
      out[0]!,
      /^\d\d:\d\d:\d\d 30 hub registered with the hub \{"hub":"127\.0\.0\.1:4242"\}$/,
    );
    t.regex(out[1]!, /^\d\d:\d\d:\d\d 40 - no mod here \{\}$/);
    t.is(out[2], 'Error: boom');
    t.is(out[3], '    at somewhere');
  },
);
