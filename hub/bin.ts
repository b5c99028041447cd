#!/usr/bin/env node
import { runHub } from './cli.ts';

runHub(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
