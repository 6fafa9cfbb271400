#!/usr/bin/env node
/**
 * The CLI entry: parse flags (yargs, from the one option table), wire the stages, choose the exit code.
 * Everything else lives in the library.
 */
import { runCli } from './run.js';

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
