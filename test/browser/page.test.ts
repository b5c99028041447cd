/**
 * The web page in a real browser (headless Debian Chromium through playwright-core) on a
 * phone-sized window (390x844), against a real hub (embedded MQTT broker) with two real
 * `babel-device` processes: log in, see both stations, watch a call placed by a device's
 * button ring and go up live (with the devices' statistics and the relay's per-leg counts),
 * a door event arrive, open the pairing window and add a user. A screenshot is saved to .tmp/artifacts/ (ignored by git).
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { chromium } from 'playwright-core';
import { readWebLogin } from '../../hub/http/credentials.ts';
import { Hub } from '../../hub/main.ts';
import { readMqttLogins } from '../../hub/mqtt/logins.ts';
import { DeviceProcess } from '../helpers/device.ts';
import { tempDir, testConfig } from '../helpers/hub.ts';
import { testLog } from '../helpers/log.ts';
import { freePort, MqttWatch } from '../helpers/mosquitto.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(import.meta.dirname, '../../.tmp/artifacts');
/** Generous: a slow shared 2-core machine, several node processes at once. */
const WAIT = 15_000;
/** A device's start (tsx compiles it) and first connection to the hub. */
const START = 25_000;

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

test('the page on a phone: log in, stations, a live call with statistics, door, pairing, a user, a group', async (t) => {
  t.timeout(150_000);
  if (!fs.existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing: bash scripts/setup.sh --test installs it`);
    return;
  }
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'door.yaml'), 'door:\n  relay: fake\n  pulse_ms: 200\n');
  const httpPort = await freePort();
  // Media through the hub's relay, so the page shows its per-leg counts [M-4].
  const config = testConfig([
    '--mqtt',
    'embedded',
    '--http-port',
    String(httpPort),
    '--relay',
    'always',
  ]);
  config.mqtt.embedded_host = '127.0.0.1';
  config.mqtt.embedded_port = 0;
  config.mqtt.embedded_tls_port = 0;
  const hub = await Hub.start(config, { log: testLog });
  t.is(hub.httpPort, httpPort);
  const url = `mqtt://127.0.0.1:${hub.mqttPort}`;
  const common = ['--hub', `127.0.0.1:${hub.textPort}`, '--media-port', '0', '--playback', 'null'];
  const door = new DeviceProcess('door', [
    ...common,
    '--mqtt',
    url,
    '--button',
    'stdin',
    '--capture',
    'tone:440',
    '--target',
    'kitchen',
    '--config',
    path.join(dir, 'door.yaml'),
  ]);
  const kitchen = new DeviceProcess('kitchen', [
    ...common,
    '--mqtt',
    url,
    '--button',
    'stdin',
    '--capture',
    'tone:1000',
  ]);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // (playwright gives every launch a fresh profile directory of its own)
    args: FLAGS,
  });
  const admin = readMqttLogins(config.data_dir)?.admin;
  if (!admin) throw new Error('the hub made no MQTT logins');
  const watch = await MqttWatch.connect(url, ['babel/+/door'], admin);
  try {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const base = `http://127.0.0.1:${httpPort}`;

    // Not logged in: the page sends one to the login form.
    await page.goto(`${base}/`);
    t.true(page.url().endsWith('/login'));
    await page.fill('#password', 'not the password');
    await page.click('button[type=submit]');
    await page.waitForSelector('text=Wrong password.');

    const password = readWebLogin(config.data_dir)?.initial_password;
    if (!password) throw new Error('the hub made no web login');
    await page.fill('#password', password);
    await page.click('button[type=submit]');
    await page.waitForSelector('#live.on', { timeout: WAIT });

    // Both stations, online, as their devices log in.
    await door.waitFor(/^connected to the hub/, START);
    await kitchen.waitFor(/^connected to the hub/, START);
    await page.waitForSelector('[data-station=door][data-state=idle]', { timeout: WAIT });
    await page.waitForSelector('[data-station=kitchen][data-state=idle]', { timeout: WAIT });

    // A call from the door's button rings, is answered with the kitchen's, and shows live.
    door.press();
    await kitchen.waitFor(/^door is calling$/, WAIT);
    await page.waitForSelector('[data-call][data-phase=ringing]', { timeout: WAIT });
    await page.waitForSelector('[data-station=kitchen][data-state=ringing]', { timeout: WAIT });
    kitchen.press();
    await door.waitFor(/^talking with kitchen$/, WAIT);
    await page.waitForSelector('[data-call][data-phase=active]', { timeout: WAIT });
    t.regex((await page.textContent('[data-call]')) ?? '', /door → kitchen/);
    // The devices publish their statistics every 5 s: a leg's loss shows as a number.
    await page
      .locator('[data-call] [data-leg] td:nth-child(2)')
      .filter({ hasText: /^\d+(\.\d)? %$/ })
      .first()
      .waitFor({ timeout: 20_000 });
    // [M-4] The relay's packets and bytes, each way, under each leg.
    t.is(await page.getAttribute('[data-call] [data-media]', 'data-media'), 'relayed');
    for (const leg of ['door', 'kitchen']) {
      await page
        .locator(`[data-call] [data-relay-leg=${leg}]`)
        .filter({ hasText: /^relay: in [1-9]\d* pk, [\d.]+ k?B · out [1-9]\d* pk, [\d.]+ k?B$/ })
        .waitFor({ timeout: WAIT });
    }

    // A door event (the door station opens on an MQTT command) shows in the door list.
    await watch.client.publishAsync('babel/door/set', '{"action":"door"}', { qos: 1 });
    await watch.waitTopic('babel/door/door', undefined, WAIT);
    await page.waitForSelector('#doors li.opened', { timeout: WAIT });
    t.regex((await page.textContent('#doors')) ?? '', /door: opened by mqtt/);

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-page-call.png'), fullPage: true });

    // Hang up: the call leaves the live list for the recent ones.
    kitchen.press();
    await door.waitFor(/^call with kitchen ended$/, WAIT);
    await page.waitForSelector('[data-call]', { state: 'detached', timeout: WAIT });
    t.regex((await page.textContent('#recent')) ?? '', /door → kitchen: ended/);

    // The pairing switch opens the hub's pairing window [S-6].
    t.is(hub.access.pairing.state, 'closed');
    await page.fill('#pairing-minutes', '5');
    await page.click('#pairing-open');
    await page.waitForSelector('#pairing-state:text("open")', { timeout: WAIT });
    t.is(hub.access.pairing.state, 'open');

    // A user added on the page exists in the store, with its generated secret shown once.
    await page.fill('#user-name', 'garage');
    await page.click('#user-add button[type=submit]');
    await page.waitForSelector('#user-msg:has-text("Created garage")', { timeout: WAIT });
    await page.waitForSelector('[data-user=garage]', { timeout: WAIT });
    const secret = /its secret: (\S+)/.exec((await page.textContent('#user-msg')) ?? '')?.[1];
    t.truthy(secret);
    const garage = hub.accounts.getByName('garage');
    t.truthy(garage);
    t.true(await hub.accounts.checkSecret(garage!.id, secret));

    // [G-1] A group made on the page, with both stations as members.
    await page.fill('#group-name', 'flats');
    await page.fill('#group-members', 'door, kitchen');
    await page.click('#group-edit button[value=add]');
    await page.waitForSelector('[data-group=flats]:has-text("kitchen (idle)")', { timeout: WAIT });
    t.deepEqual(
      hub.accounts.groups.get('flats')?.members.map((m) => m.name),
      ['door', 'kitchen'],
    );

    // Nothing overflows the phone's width.
    const width = Number(await page.evaluate('document.documentElement.scrollWidth'));
    t.true(width <= 390, `page is ${width} px wide`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-page.png'), fullPage: true });
  } finally {
    await browser.close();
    await watch.close();
    await Promise.all([door.stop(10_000), kitchen.stop(10_000)]);
    await hub.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
