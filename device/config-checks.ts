/**
 * What the device schema's patterns cannot say: the hub's port range, GPIO lines that are
 * on the header, an MQTT URL that parses. Run by the loader after the schema passed.
 */
import type { ConfigProblem } from '../shared/config/load.ts';
import { mqttUrlProblem } from '../shared/config/load.ts';
import { hubAddressProblem } from './hub-address.ts';

/**
 * The highest BCM line on the Raspberry Pi's 40-pin header: GPIO 0-27 on every model with
 * the header (Pi 1 B+ to Pi 5, Zero). Lines above exist on the SoC (a Compute Module
 * routes some out) but not on a pin a user can wire a button, LED or relay to.
 */
export const HEADER_GPIO_MAX = 27;

interface Checked {
  readonly hub: string;
  readonly button: readonly string[];
  readonly led?: string;
  readonly door: { readonly relay?: string; readonly button?: string };
  readonly mqtt: { readonly url: string };
}

export function checkDeviceConfig(config: Checked): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const hub = hubAddressProblem(config.hub);
  if (hub) out.push({ path: 'hub', message: hub });
  const lines: [string, string | undefined][] = [
    ...config.button.map((b, i): [string, string] => [`button[${i}]`, b]),
    ['led', config.led],
    ['door.relay', config.door.relay],
    ['door.button', config.door.button],
  ];
  for (const [path, spec] of lines) {
    const bcm = spec === undefined ? null : /^gpio:(\d+)/.exec(spec)?.[1];
    if (bcm !== undefined && bcm !== null && Number(bcm) > HEADER_GPIO_MAX) {
      out.push({
        path,
        message: `GPIO ${Number(bcm)} is not on the Raspberry Pi's 40-pin header (BCM 0-${HEADER_GPIO_MAX})`,
      });
    }
  }
  const url = config.mqtt.url;
  const urlProblem = url === 'auto' || url === 'off' ? null : mqttUrlProblem(url);
  if (urlProblem) out.push({ path: 'mqtt.url', message: urlProblem });
  return out;
}
