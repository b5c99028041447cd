import pino from 'pino';

/** A silent pino logger for tests (set BABEL_TEST_LOG=debug to see output). */
export const testLog = pino({ level: process.env.BABEL_TEST_LOG ?? 'silent' });
