import fs from 'node:fs';
import path from 'node:path';
import { listGpioChips, MAIN_CHIP_LABELS } from './io/gpio-base.ts';

/**
 * `babel-device --list-audio`: the sound cards ALSA knows, each with the spec strings to
 * put in the config. Reads `/proc/asound/cards`; `plughw:` converts rate and channels,
 * which USB speakerphones need.
 */
export function listAudio(cardsFile = '/proc/asound/cards'): string {
  let text: string;
  try {
    text = fs.readFileSync(cardsFile, 'utf8');
  } catch {
    return 'No ALSA sound cards found (no /proc/asound/cards). Plug in a USB microphone or speakerphone.\n';
  }
  const cards = [...text.matchAll(/^\s*(\d+) \[(\S+)\s*\]: (.+)$/gm)].map((m) => ({
    index: m[1]!,
    id: m[2]!,
    desc: m[3]!.trim(),
  }));
  if (cards.length === 0) return 'No ALSA sound cards found.\n';
  const lines = ['Sound cards (capture/playback spec strings for the config):'];
  for (const c of cards) {
    lines.push(`  card ${c.index}: ${c.id} — ${c.desc}`);
    lines.push(`    capture:  alsa:plughw:CARD=${c.id},DEV=0`);
    lines.push(`    playback: aplay:plughw:CARD=${c.id},DEV=0`);
  }
  lines.push('Use "default" (alsa:default, aplay:default) to follow the system\'s default card.');
  return `${lines.join('\n')}\n`;
}

/**
 * `babel-device --list-buttons`: GPIO chips (with the main chip's base, so plain BCM
 * numbers work) and input devices (for `gpio-key` overlay buttons), with spec strings.
 */
export function listButtons(
  sysfsGpio = '/sys/class/gpio',
  inputDir = '/dev/input/by-path',
): string {
  const lines: string[] = [];
  const chips = (() => {
    try {
      return listGpioChips(sysfsGpio);
    } catch {
      return [];
    }
  })();
  if (chips.length === 0)
    lines.push(
      'GPIO: no chips under /sys/class/gpio (not a Raspberry Pi, or sysfs GPIO disabled).',
    );
  else {
    lines.push('GPIO chips:');
    for (const c of chips) {
      const main = (MAIN_CHIP_LABELS as readonly string[]).includes(c.label);
      lines.push(
        `  ${c.label} base ${c.base}, ${c.ngpio} lines${main ? '  <- the Pi header: use --button gpio:BCM, e.g. gpio:17' : ''}`,
      );
    }
  }
  let inputs: string[] = [];
  try {
    inputs = fs.readdirSync(inputDir).filter((n) => n.endsWith('-event') || n.includes('event'));
  } catch {
    // none
  }
  if (inputs.length === 0)
    lines.push(
      'Input devices: none under /dev/input/by-path (a gpio-key overlay button appears here).',
    );
  else {
    lines.push('Input devices:');
    for (const n of inputs) lines.push(`  --button evdev:${path.join(inputDir, n)}:BTN_0`);
  }
  lines.push(
    'Serial panels: --button serial:/dev/ttyUSB0:9600 (see docs/button-panel.md). Scripts: --button stdin.',
  );
  return `${lines.join('\n')}\n`;
}
