/**
 * Issue 14: YAML values the loader must not misread, aliases that must not crash it, and
 * URLs that must parse. Through the hub's loader; the device's cases are in
 * test/device/config-values.test.ts.
 */
import test from 'ava';
import { type HubConfig, loadHubConfig } from '../../../hub/config-schema.ts';
import { ConfigError } from '../../../shared/config/errors.ts';
import { reader } from '../../helpers/config-files.ts';

function outcome(yaml: string | null, argv: string[] = []): HubConfig | string[] {
  const files = yaml === null ? {} : { 'hub.yaml': yaml };
  const args = yaml === null ? argv : [...argv, '--config', 'hub.yaml'];
  try {
    const r = loadHubConfig(args, {}, reader(files));
    if (r.kind !== 'config') throw new Error(r.kind);
    return r.config;
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
}

test('a self-referential alias is one line, not a stack overflow', (t) => {
  t.deepEqual(outcome('a: &a [*a]\n'), [
    'hub.yaml: line 1: an alias refers to the node that contains it',
  ]);
  t.deepEqual(outcome('mqtt: &m\n  url: *m\n'), [
    'hub.yaml: line 2: an alias refers to the node that contains it',
  ]);
});

test('an alias bomb is one line', (t) => {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const cur = String.fromCharCode(97 + i);
    lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const r = outcome(`${lines.join('\n')}\n`);
  t.true(Array.isArray(r));
  t.is((r as string[]).length, 1);
  t.regex((r as string[])[0]!, /^hub\.yaml: too many aliases \(more than \d+\); /);
});

test('ordinary aliases still work', (t) => {
  const r = outcome('x-port: &p 4300\ntext_port: *p\n');
  t.deepEqual(r, ['x-port: unknown setting']);
  const ok = outcome('connections: &c\n  login_deadline: 5\n');
  t.like(ok, { connections: { login_deadline: 5 } });
});

test('booleans where on/off is expected mean on and off; yes/no where a boolean is', (t) => {
  t.like(outcome('login_throttle: false\nplaintext: false\n'), {
    login_throttle: 'off',
    plaintext: 'off',
  });
  t.like(outcome('login_throttle: true\n'), { login_throttle: 'on' });
  t.like(outcome('mqtt:\n  url: false\n'), { mqtt: { url: 'off' } });
  t.like(outcome('mqtt:\n  anonymous: no\n'), { mqtt: { anonymous: false } });
  t.deepEqual(outcome('relay: true\n'), ['relay: must be one of auto, always, never']);
  t.deepEqual(outcome('mqtt:\n  url: null\n'), [
    'mqtt.url: is null (YAML reads null and ~ as no value); must be embedded, off, or an mqtt:// or mqtts:// URL, or leave it out for the default',
  ]);
});

test('numbers out of range are refused, from the file and from flags', (t) => {
  t.deepEqual(outcome('text_port: 99999\n'), ['text_port: must be an integer from 0 to 65535']);
  t.deepEqual(outcome(null, ['--binary-tls-port', '65536']), [
    '--binary-tls-port: must be an integer from 0 to 65535',
  ]);
  t.deepEqual(outcome('mqtt:\n  embedded_tls_port: -1\n'), [
    'mqtt.embedded_tls_port: must be an integer from 0 to 65535',
  ]);
});

test('an MQTT URL that does not parse is refused', (t) => {
  t.deepEqual(outcome(null, ['--mqtt', 'mqtt://[broken']), [
    '--mqtt: is not a valid URL (mqtt[s]://HOST[:PORT], port 1-65535)',
  ]);
  t.deepEqual(outcome(null, ['--mqtt', 'mqtt://broker:65536']), [
    '--mqtt: is not a valid URL (mqtt[s]://HOST[:PORT], port 1-65535)',
  ]);
  t.like(outcome(null, ['--mqtt', 'mqtts://user@broker.lan:8883']), {
    mqtt: { url: 'mqtts://user@broker.lan:8883' },
  });
});
