#!/usr/bin/env node
import { reportFailure } from '../shared/service.ts';
import { runDevice } from './cli.ts';

// Exit explicitly: a pending read on an input device (evdev button) would otherwise keep
// the process alive after a clean stop.
runDevice(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (err: unknown) => {
    reportFailure('babel-device', err);
    process.exit(1);
  },
);
