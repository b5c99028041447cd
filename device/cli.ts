import pino from 'pino';
import { createLogger } from '../shared/log.ts';
import { runService } from '../shared/service.ts';
import { DeviceAgent } from './agent.ts';
import { loadDeviceConfig } from './config-schema.ts';
import { runDoctor } from './doctor.ts';
import { listAudio, listButtons } from './list.ts';
import { runSoundCheck } from './media/echo/sound-check-run.ts';

/** `babel-device`. Exit codes: 0 stopped, 1 could not start (media port taken), 2 bad config. */
export function runDevice(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return runService(
    {
      program: 'babel-device',
      load: () => loadDeviceConfig(argv, env),
      oneShot: (config) => {
        if (config.sound_check) {
          // The report goes to stdout; log lines to stderr, out of its way.
          const log = createLogger(config.log_level, pino.destination(2), 'babel-device');
          const print = (text: string) => process.stdout.write(text);
          return runSoundCheck(config, { log, print });
        }
        if (config.doctor) {
          // One line per check on stdout; the backends' own lines (said in the checks'
          // lines already) to stderr, only at a level asked for below info.
          const level = config.log_level === 'info' ? 'error' : config.log_level;
          const log = createLogger(level, pino.destination(2), 'babel-device');
          const print = (text: string) => process.stdout.write(text);
          return runDoctor(config, { log, print, env });
        }
        if (!config.list_audio && !config.list_buttons) return null;
        if (config.list_audio) process.stdout.write(listAudio());
        if (config.list_buttons) process.stdout.write(listButtons());
        return 0;
      },
      start: async (config, log) => {
        const agent = await DeviceAgent.start(config, { log });
        log.info(
          { name: config.name, hub: config.hub, mediaPort: agent.mediaPort },
          'device started',
        );
        return agent;
      },
      status: (agent) => `${agent.machine.state}, media port ${agent.mediaPort}`,
    },
    env,
  );
}
