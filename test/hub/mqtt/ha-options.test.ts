import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { loadHubConfig } from '../../../hub/config-schema.ts';
import { homeAssistantOptions, loadOrCreateHubId } from '../../../hub/mqtt/ha-options.ts';
import { ConfigError } from '../../../shared/config/errors.ts';
import { packageVersion } from '../../../shared/version.ts';
import { tempDir } from '../../helpers/hub.ts';

test('the hub id is made once, kept in <data_dir>/hub-id, and the same on every start', (t) => {
  const dir = path.join(tempDir(), 'data');
  const id = loadOrCreateHubId(dir);
  t.regex(id, /^[0-9a-f]{8}$/);
  t.is(fs.readFileSync(path.join(dir, 'hub-id'), 'utf8'), `${id}\n`);
  t.is(loadOrCreateHubId(dir), id);
  t.is(
    loadOrCreateHubId(dir, () => Buffer.from('ffffffff', 'hex')),
    id,
  );
  // Two data directories, two hubs: two ids.
  t.not(loadOrCreateHubId(tempDir()), loadOrCreateHubId(tempDir()));
});

test('a damaged hub-id is an error that says what to do, and is never replaced', (t) => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'hub-id'), 'not-an-id\n');
  const err = t.throws(() => loadOrCreateHubId(dir));
  t.regex(
    err!.message,
    /hub-id: not a hub id \(8 hex digits\); restore it from a backup, or delete it/,
  );
  t.is(fs.readFileSync(path.join(dir, 'hub-id'), 'utf8'), 'not-an-id\n');
});

function config(argv: string[], env: NodeJS.ProcessEnv = {}, file?: string) {
  const files: Record<string, string> = file ? { 'hub.yaml': file } : {};
  const loaded = loadHubConfig([...(file ? ['--config', 'hub.yaml'] : []), ...argv], env, (p) => {
    const text = files[p];
    if (text === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return text;
  });
  if (loaded.kind !== 'config') throw new Error('help');
  return loaded.config;
}

test('homeassistant options: defaults, the file, the environment', (t) => {
  t.deepEqual(config([]).homeassistant, { enabled: true, discovery_topic: 'homeassistant' });
  t.deepEqual(
    config([], {}, 'homeassistant:\n  enabled: false\n  discovery_topic: ha\n').homeassistant,
    { enabled: false, discovery_topic: 'ha' },
  );
  t.deepEqual(
    config([], {
      BABEL_HUB_HOMEASSISTANT__ENABLED: 'false',
      BABEL_HUB_HOMEASSISTANT__DISCOVERY_TOPIC: 'home/ha',
    }).homeassistant,
    { enabled: false, discovery_topic: 'home/ha' },
  );
});

test('bad homeassistant options: one line each, path: message', (t) => {
  const problems = (env: NodeJS.ProcessEnv, file?: string) => {
    try {
      config([], env, file);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return [...err.problems];
      throw err;
    }
  };
  t.deepEqual(problems({ BABEL_HUB_HOMEASSISTANT__DISCOVERY_TOPIC: 'ha/#' }), [
    'BABEL_HUB_HOMEASSISTANT__DISCOVERY_TOPIC: must be an MQTT topic without wildcards or outer slashes, e.g. homeassistant',
  ]);
  t.deepEqual(problems({}, 'homeassistant:\n  discovery_topic: /ha\n  enable: true\n').sort(), [
    'homeassistant.discovery_topic: must be an MQTT topic without wildcards or outer slashes, e.g. homeassistant',
    'homeassistant.enable: unknown setting',
  ]);
  const [p] = problems({ BABEL_HUB_HOMEASSISTANT__ENABLED: 'maybe' });
  t.regex(p ?? '', /^BABEL_HUB_HOMEASSISTANT__ENABLED: /);
});

test('homeAssistantOptions: what the bridge gets', (t) => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'hub-id'), '12345678\n');
  t.deepEqual(
    homeAssistantOptions({
      data_dir: dir,
      homeassistant: { enabled: false, discovery_topic: 'ha' },
    }),
    { discovery: false, discoveryPrefix: 'ha', hubId: '12345678', swVersion: packageVersion() },
  );
});
