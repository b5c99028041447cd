/**
 * The device's buttons as its config says: the call button(s) (`button`, a panel's
 * buttons with their own targets, or a group that a panel key pages), the door-key button
 * (`door.button`) and the page button (`page.button` [G-2]). Each press becomes the call
 * machine's input or a door key.
 */
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.ts';
import type { Component } from '../shared/component.ts';
import type { AgentDeps } from './agent.ts';
import type { Input } from './call/machine.ts';
import type { DeviceConfig } from './config-schema.ts';
import type { Button, ButtonPress } from './io/button.ts';
import { createButton, parseButtonSpec } from './io/spec.ts';

export interface ButtonWiring {
  readonly clock: Clock;
  readonly log: Logger;
  /** A press for the call machine. */
  readonly input: (input: Input) => void;
  /** A press of the door-key button. */
  readonly doorKey: () => void;
}

/** Starts every configured button; returns them as components (stopped in reverse). */
export function startButtons(
  config: Pick<
    DeviceConfig,
    'button' | 'debounce_ms' | 'long_press_ms' | 'panel' | 'door' | 'page'
  >,
  deps: AgentDeps,
  w: ButtonWiring,
): Component[] {
  const components: Component[] = [];
  const make = (spec: string): Button =>
    createButton(parseButtonSpec(spec), {
      clock: w.clock,
      log: w.log.child({ mod: 'button', spec }),
      debounceMs: config.debounce_ms,
      longPressMs: config.long_press_ms,
      panelTargets: config.panel,
      ...(deps.gpioFactory ? { gpioFactory: deps.gpioFactory } : {}),
      ...(deps.sysfsRoot ? { sysfsRoot: deps.sysfsRoot } : {}),
      ...(deps.serialFactory ? { serialFactory: deps.serialFactory } : {}),
      ...(deps.stdin ? { stdin: deps.stdin } : {}),
    });
  const start = (name: string, spec: string, onPress: (p: ButtonPress) => void) => {
    const b = make(spec);
    b.on('press', onPress);
    b.on('fault', (err) => w.log.warn({ err, button: spec }, `${name} fault`));
    b.start();
    components.push({ name: `${name} ${spec}`, stop: () => b.stop() });
  };
  for (const spec of config.button) start('button', spec, (p) => w.input(pressInput(p)));
  if (config.door.button) start('door button', config.door.button, () => w.doorKey());
  const page = config.page;
  if (page.button && page.target) {
    const target = page.target;
    start('page button', page.button, () => w.input({ kind: 'page_press', target })); // [G-2]
  }
  return components;
}

/**
 * A press of a call button is the machine's `press`; a panel key that pages its group
 * (`panel: { "9": { page: GROUP } }`) is the same `page_press` as `page.button` [G-2].
 */
export function pressInput(p: ButtonPress): Input {
  return 'page' in p ? { kind: 'page_press', target: p.page } : { kind: 'press', ...p };
}
