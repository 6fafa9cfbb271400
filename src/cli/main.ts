#!/usr/bin/env node
/**
 * The CLI entry: parse flags (yargs, from the one option table), wire the stages, choose the exit code.
 * Everything else lives in the library.
 */
import { readAheadFromArgv } from './read-ahead.js';

// Before yargs and the analysis load: a .gz or stdin input starts being read on the other core now.
readAheadFromArgv(process.argv.slice(2));
const { runCli } = await import('./run.js');

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // runCli turns every expected failure into a message and a code; this is the last guard.
    process.stderr.write(`synscope: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 2;
  },
);
