/** Issue 14: `--help` as a new user reads it, for both programs. */
import test from 'ava';
import { loadDeviceConfig } from '../../../device/config-schema.ts';
import { loadHubConfig } from '../../../hub/config-schema.ts';

function help(load: (argv: string[], env: NodeJS.ProcessEnv) => { kind: string }): string {
  const r = load(['--help'], {}) as { kind: string; text?: string };
  if (r.kind !== 'help' || r.text === undefined) throw new Error(r.kind);
  return r.text;
}

test('babel-device --help: boolean flags without a placeholder, "may repeat" once', (t) => {
  const text = help(loadDeviceConfig);
  t.regex(text, /\[--auto-answer\]/);
  t.notRegex(text, /\[--[a-z-]+ \]/, 'no flag shows an empty placeholder');
  t.notRegex(text, / \n/, 'no line ends in a space');
  t.notRegex(text, /may repeat[^\n]*may repeat/);
  t.regex(text, /--button SPEC\.\.\. +push-button\(s\)[^\n]*\(may repeat\)/);
});

test('babel-hub --help: no contract clause numbers, every subcommand named', (t) => {
  const text = help(loadHubConfig);
  t.notRegex(text, /\[[A-Z]{1,2}-\d+\]/, 'clause citations are for the code, not for users');
  t.regex(text, /--relay auto\|always\|never +relay call media through the hub \(default: auto\)/);
  for (const command of [
    'user',
    'group',
    'pair',
    'fingerprint',
    'mqtt-login',
    'web-login',
    'status',
    'backup',
    'restore',
  ]) {
    t.regex(text, new RegExp(`^  ${command}\\b`, 'm'), command);
  }
  t.regex(text, /^Usage: babel-hub \[--config FILE\]/);
  t.regex(text, /^ +babel-hub COMMAND /m);
});
