/** [S-11] Every lenient hub setting in force is logged once at warn at start. */
import test from 'ava';
import { Hub } from '../../../hub/main.ts';
import { lenientSettings } from '../../../hub/security/lenient.ts';
import { SECURE_ENV, SEED_ENV, testConfig } from '../../helpers/hub.ts';
import { capturingLog } from '../../helpers/log.ts';

const TABLE: Array<[string, NodeJS.ProcessEnv, string[]]> = [
  ['the defaults are not lenient', SECURE_ENV, []],
  ['registration: open', { BABEL_HUB_REGISTRATION: 'open' }, ['registration: open']],
  ['login_throttle: off', { BABEL_HUB_LOGIN_THROTTLE: 'off' }, ['login_throttle: off']],
  ['both', SEED_ENV, ['registration: open', 'login_throttle: off']],
  ['plaintext: all', { BABEL_HUB_PLAINTEXT: 'all' }, ['plaintext: all']],
  ['plaintext: loopback is not lenient', { BABEL_HUB_PLAINTEXT: 'loopback' }, []],
];

for (const [name, env, expected] of TABLE) {
  test(`lenientSettings: ${name}`, (t) => {
    t.deepEqual(
      lenientSettings(testConfig([], undefined, env)).map((l) => l.setting),
      expected,
    );
  });
}

test('the hub warns once per lenient setting at start, and not otherwise', async (t) => {
  for (const [env, count] of [
    [SEED_ENV, 2],
    [SECURE_ENV, 0],
  ] as const) {
    const cap = capturingLog('info');
    const hub = await Hub.start(testConfig([], undefined, env), { log: cap.log });
    await hub.stop();
    const warned = cap.records.filter((r) => r.level === 40 && typeof r.setting === 'string');
    t.is(warned.length, count);
    t.is(new Set(warned.map((r) => r.setting)).size, count);
  }
});
