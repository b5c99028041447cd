import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const units = ['babel-hub.service', 'babel-device.service'];

/** `Key=value` lines of a unit's [Service] section. */
function directives(unit: string): Map<string, string[]> {
  const text = fs.readFileSync(path.join(root, 'systemd', unit), 'utf8');
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

for (const unit of units) {
  test(`${unit} passes systemd-analyze verify`, async (t) => {
    const { stdout, stderr } = await run('systemd-analyze', [
      'verify',
      path.join(root, 'systemd', unit),
    ]);
    // verify prints nothing for a unit without problems.
    t.is(`${stdout}${stderr}`.trim(), '');
  });

  test(`${unit} is a hardened notify service with a watchdog and a start limit`, (t) => {
    const d = directives(unit);
    const one = (k: string) => d.get(k)?.[0];
    t.is(one('Type'), 'notify');
    t.is(one('NotifyAccess'), 'main');
    t.truthy(one('WatchdogSec'));
    t.is(one('Restart'), 'on-failure');
    t.truthy(one('StartLimitBurst'));
    t.is(one('NoNewPrivileges'), 'yes');
    t.is(one('ProtectSystem'), 'strict');
    t.is(one('PrivateTmp'), 'yes');
    t.is(one('User'), 'babel');
    t.truthy(one('ConfigurationDirectory'));
    t.regex(
      one('ExecStart') ?? '',
      /dist\/(hub\/bin\.js|device\/babel-device\.mjs) --config \/etc\/babel\//,
    );
  });
}

test('the device unit gets exactly the device groups it needs', (t) => {
  const groups = directives('babel-device.service')
    .get('SupplementaryGroups')?.[0]
    ?.split(/\s+/)
    .sort();
  t.deepEqual(groups, ['audio', 'dialout', 'gpio', 'input']);
  t.is(directives('babel-hub.service').get('SupplementaryGroups'), undefined);
  t.is(directives('babel-hub.service').get('StateDirectory')?.[0], 'babel');
});
