#!/usr/bin/env node
import { reportFailure } from '../shared/service.ts';
import { runHub } from './cli.ts';

runHub(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (err: unknown) => {
    reportFailure('babel-hub', err);
    process.exit(1);
  },
);
