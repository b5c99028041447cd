import { Type } from '@sinclair/typebox';
import test from 'ava';
import { ConfigError } from '../../../shared/config/errors.ts';
import { type ConfigSpec, loadConfig } from '../../../shared/config/load.ts';
import { type Files, reader } from '../../helpers/config-files.ts';

// A device-like program: repeatable and boolean flags, migrations.
const DeviceLike = Type.Object(
  {
    version: Type.Literal(2, { default: 2 }),
    name: Type.String({ minLength: 1, default: 'door', description: 'user name' }),
    button: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'button' }),
    verbose: Type.Boolean({ default: false, description: 'say more' }),
  },
  { additionalProperties: false },
);
const DEVICE_LIKE: ConfigSpec<typeof DeviceLike> = {
  program: 'babel-test',
  schema: DeviceLike,
  envPrefix: 'BABEL_TEST_',
  version: 2,
  migrations: { 1: ({ user, ...rest }) => (user === undefined ? rest : { ...rest, name: user }) },
  flags: [
    { flag: '--name', path: 'name', kind: 'string', arg: 'NAME' },
    { flag: '--button', path: 'button', kind: 'list', arg: 'SPEC' },
    { flag: '--verbose', path: 'verbose', kind: 'boolean', arg: '[true|false]', help: 'log more' },
  ],
};

function device(argv: string[], env: NodeJS.ProcessEnv = {}, files: Files = {}) {
  return loadConfig(DEVICE_LIKE, { argv, env, readFile: reader(files) });
}

test('repeatable flags collect every occurrence and replace the environment list', (t) => {
  t.like(device(['--button', 'gpio:17', '--name', 'lobby', '--button=stdin']), {
    config: { button: ['gpio:17', 'stdin'], name: 'lobby' },
  });
  t.like(device([], { BABEL_TEST_BUTTON: 'gpio:17:active_low, stdin' }), {
    config: { button: ['gpio:17:active_low', 'stdin'] },
  });
  t.like(device(['--button', 'evdev:/dev/input/event0'], { BABEL_TEST_BUTTON: 'stdin' }), {
    config: { button: ['evdev:/dev/input/event0'] },
  });
  const err = t.throws(() => device(['--button', 'stdin', '--button=']), {
    instanceOf: ConfigError,
  });
  t.deepEqual(err?.problems, ['--button: must be a non-empty string']);
  const help = device(['--help']);
  t.true(help.kind === 'help' && help.text.includes('--button SPEC...'));
  t.true(help.kind === 'help' && help.text.includes('[--button SPEC]...'));
  t.true(help.kind === 'help' && /--button SPEC\.\.\. +button \(may repeat\)/.test(help.text));
});

test('boolean flags stand alone or take a value', (t) => {
  t.like(device(['--verbose']), { config: { verbose: true } });
  t.like(device(['--verbose=no']), { config: { verbose: false } });
  t.like(device([], { BABEL_TEST_VERBOSE: 'on' }), { config: { verbose: true } });
  const err = t.throws(() => device(['--verbose=maybe']), { instanceOf: ConfigError });
  t.deepEqual(err?.problems, ['--verbose: expected true or false, got "maybe"']);
});

test('an older file is migrated step by step', (t) => {
  const files = { 'd.yaml': 'version: 1\nuser: garage\n' };
  t.like(device(['--config', 'd.yaml'], {}, files), { config: { version: 2, name: 'garage' } });
  const err = t.throws(() => device(['--config', 'd.yaml'], {}, { 'd.yaml': 'user: garage\n' }), {
    instanceOf: ConfigError,
  });
  t.deepEqual(err?.problems, ['user: unknown setting']); // no version: already current
});

test('a flag table that does not match the schema is a bug, not a ConfigError', (t) => {
  const wrongPath = {
    ...DEVICE_LIKE,
    flags: [{ flag: '--x', path: 'nope', kind: 'string', arg: 'X' }],
  } as const;
  t.throws(() => loadConfig(wrongPath, { argv: [], env: {}, readFile: reader({}) }), {
    message: 'flag table: --x points at no setting (nope)',
  });
  const wrongKind = {
    ...DEVICE_LIKE,
    flags: [{ flag: '--name', path: 'name', kind: 'number', arg: 'N' }],
  } as const;
  t.throws(() => loadConfig(wrongKind, { argv: [], env: {}, readFile: reader({}) }), {
    message: 'flag table: --name is number but name is string',
  });
});
