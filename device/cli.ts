import { loadDeviceConfig } from '../shared/config/device-schema.ts';
import { ConfigError } from '../shared/errors.ts';
import { createLogger } from '../shared/log.ts';
import { SdNotify } from '../shared/sd-notify.ts';
import { packageVersion } from '../shared/version.ts';
import { DeviceAgent } from './agent.ts';
import { listAudio, listButtons } from './list.ts';

/** Exit codes: 0 clean stop, 1 could not start (media port taken), 2 bad config or flag. */
export async function runDevice(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let loaded: ReturnType<typeof loadDeviceConfig>;
  try {
    loaded = loadDeviceConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) process.stderr.write(`${p}\n`);
      return 2;
    }
    throw err;
  }
  if (loaded.kind === 'help') {
    process.stdout.write(loaded.text);
    return 0;
  }
  if (loaded.kind === 'version') {
    process.stdout.write(`babel-device ${packageVersion()}\n`);
    return 0;
  }
  const config = loaded.config;
  if (config.list_audio || config.list_buttons) {
    if (config.list_audio) process.stdout.write(listAudio());
    if (config.list_buttons) process.stdout.write(listButtons());
    return 0;
  }
  const log = createLogger(config.log_level, undefined, 'babel-device');
  const notify = new SdNotify({ env, log: log.child({ mod: 'sd-notify' }) });
  let agent: DeviceAgent;
  try {
    agent = await DeviceAgent.start(config, { log });
  } catch (err) {
    log.fatal({ err }, 'device failed to start');
    return 1;
  }
  log.info({ name: config.name, hub: config.hub, mediaPort: agent.mediaPort }, 'device started');
  notify.ready(`${config.name}, media port ${agent.mediaPort}`);
  notify.startWatchdog();
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      notify.stopping();
      notify.stop();
      agent.stop().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
