import test from 'ava';
import { canPublish, canSubscribe, type MqttIdentity } from '../../../hub/mqtt/acl.ts';

const hub: MqttIdentity = { kind: 'hub' };
const admin: MqttIdentity = { kind: 'admin' };
const door: MqttIdentity = { kind: 'device', name: 'door' };

const publishTable: Array<[string, MqttIdentity, string, boolean]> = [
  ['hub publishes state', hub, 'babel/door', true],
  ['hub publishes discovery', hub, 'homeassistant/button/babel_door/call/config', true],
  ['hub publishes a command', hub, 'babel/door/set', true],
  ['admin commands a device', admin, 'babel/door/set', true],
  ['admin sends the HA birth', admin, 'homeassistant/status', true],
  ['admin cannot fake a device state', admin, 'babel/door/device', false],
  ['admin cannot fake the bridge', admin, 'babel/bridge/state', false],
  ['admin cannot fake a call event', admin, 'babel/calls', false],
  ['admin: set two levels down is not a command', admin, 'babel/a/b/set', false],
  ['device announces itself', door, 'babel/door/device', true],
  ['device publishes its stats', door, 'babel/door/stats', true],
  ['device publishes its door events', door, 'babel/door/door', true],
  ['device cannot command itself', door, 'babel/door/set', false],
  ['device cannot command another', door, 'babel/kitchen/set', false],
  ['device cannot speak for another', door, 'babel/kitchen/device', false],
  ['device cannot publish bare base/name', door, 'babel/door', false],
  ['device cannot publish a prefix-alike name', door, 'babel/doorbell/stats', false],
  ['device cannot publish discovery', door, 'homeassistant/status', false],
  ['nobody publishes to a wildcard', hub, 'babel/+/set', false],
];

for (const [name, who, topic, allowed] of publishTable) {
  test(`[S-9] publish: ${name}`, (t) => {
    t.is(canPublish(who, topic, 'babel'), allowed);
  });
}

const subscribeTable: Array<[string, MqttIdentity, string, boolean]> = [
  ['hub reads announcements', hub, 'babel/+/device', true],
  ['admin reads everything', admin, '#', true],
  ['device reads its commands', door, 'babel/door/set', true],
  ['device reads the HA birth', door, 'homeassistant/status', true],
  ['device cannot read another device', door, 'babel/kitchen/set', false],
  ['device cannot read with +', door, 'babel/+/set', false],
  ['device cannot read with #', door, 'babel/#', false],
  ['device cannot read everything', door, '#', false],
];

for (const [name, who, filter, allowed] of subscribeTable) {
  test(`[S-9] subscribe: ${name}`, (t) => {
    t.is(canSubscribe(who, filter, 'babel'), allowed);
  });
}

test('[S-9] another base topic moves every rule with it', (t) => {
  t.true(canPublish(door, 'home/door/stats', 'home'));
  t.false(canPublish(door, 'babel/door/stats', 'home'));
  t.true(canPublish(admin, 'home/door/set', 'home'));
  t.true(canSubscribe(door, 'home/door/set', 'home'));
});
