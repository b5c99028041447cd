/**
 * docs/mqtt.md's topic table stays true to the code: every topic the hub and the devices
 * publish or subscribe to (protocol/mqtt) has a row, every row is a topic the code knows,
 * no topic has two rows, and every command `parseCommand` accepts is documented on the
 * `set` row and in the details.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { parseCommand } from '../../device/mqtt.ts';
import { doorTopic } from '../../protocol/mqtt/door.ts';
import { topicsFor } from '../../protocol/mqtt/topics.ts';

const DOC = fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/mqtt.md'), 'utf8');

/** The rows of the `## Topics` table: the topic (first cell) and the whole line. */
function rows(): Array<{ topic: string; line: string }> {
  const section = DOC.slice(
    DOC.indexOf('\n## Topics\n'),
    DOC.indexOf('\n## Order and lifecycle\n'),
  );
  const out: Array<{ topic: string; line: string }> = [];
  for (const line of section.split('\n')) {
    const m = /^\| `([^`]+)`/.exec(line);
    if (m) out.push({ topic: m[1]!, line });
  }
  return out;
}

/**
 * Every topic the code names under base `babel`, written as the doc writes it: a user's
 * name as `<user>`, a group's as `<group>`, Home Assistant's topics as `homeassistant/...`.
 */
function codeTopics(): Set<string> {
  const t = topicsFor('babel');
  const out = new Set([doorTopic('babel', '<user>')]);
  for (const [key, v] of Object.entries(t)) {
    const name = key === 'group' ? '<group>' : '<user>';
    const topic = typeof v === 'function' ? (v as (n: string) => unknown)(name) : v;
    if (typeof topic !== 'string' || !topic.includes('/')) continue; // `base`, deviceOwner
    out.add(
      topic.startsWith('homeassistant/') ? 'homeassistant/...' : topic.replaceAll('+', '<user>'),
    );
  }
  return out;
}

test('the topic table lists exactly the topics of the code, one row each', (t) => {
  const documented = rows().map((r) => r.topic);
  t.deepEqual(
    documented.filter((topic, i) => documented.indexOf(topic) !== i),
    [],
    'topics with two rows',
  );
  t.deepEqual([...new Set(documented)].sort(), [...codeTopics()].sort());
});

test('every command parseCommand accepts is on the set row and in the details', (t) => {
  // The actions are read off parseCommand itself, so a new one cannot go undocumented.
  const actions = [...parseCommand.toString().matchAll(/case\s*['"]([a-z_]+)['"]:/g)].map(
    (m) => m[1]!,
  );
  t.deepEqual(
    [...actions].sort(),
    ['accept', 'call', 'dnd', 'door', 'hangup', 'page', 'volume'],
    'the commands this test knows how to write',
  );
  const setRow = rows().find((r) => r.topic === 'babel/<user>/set')?.line ?? '';
  const examples: Record<string, string> = {
    accept: '{"action":"accept"}',
    hangup: '{"action":"hangup"}',
    door: '{"action":"door"}',
    call: '{"action":"call","target":"..."}',
    page: '{"action":"page","target":"..."}',
    volume: '{"action":"volume","value":0..100}',
    dnd: '{"action":"dnd","value":true\\|false}',
  };
  for (const action of actions) {
    const example = examples[action]!;
    t.true(setRow.includes(`\`${example}\``), `${action}: not on the set row as ${example}`);
    // The documented form, with sample values, is one the device accepts.
    const sample = example
      .replace('"..."', '"kitchen"')
      .replace('0..100', '40')
      .replace('true\\|false', 'true');
    t.like(parseCommand(sample), { action }, sample);
    t.regex(DOC, new RegExp(`\\{"action":"${action}"`), `${action}: no details`);
  }
  t.regex(DOC, /`\{"action":"dnd","value":true\|false\}` \(extension\) turns do not disturb/);
});
