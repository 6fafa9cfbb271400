/**
 * Starts reading a .gz or stdin input before the CLI has loaded yargs (~0.12 s here) and the analysis
 * (~0.1 s): its reader thread inflates, or drains the pipe, on the other core meanwhile. Finding the inputs
 * without yargs is done conservatively from the one option table: any argument it cannot place for
 * certain and the read-ahead is skipped; the run then reads as usual, after parsing. So a '-' is read
 * ahead only where yargs takes it for an input too (or rejects the whole line, and synscope exits): the
 * bytes taken from stdin were meant for this run.
 */
import { startReadingAhead } from '../capture/read.js';
import { COMMANDS, type OptionSpec } from './options.js';

/**
 * The inputs of an `analyze` command line, or null when the line is not one, or has anything this
 * scanner does not place for certain: a flag not in the table, an array flag (it takes a variable number
 * of values), `--`, a camel-case or short-flag cluster spelling, or --follow (live mode reads otherwise).
 */
export function analyzeInputsFromArgv(argv: readonly string[]): string[] | null {
  if (argv[0] !== 'analyze') return null;
  const options = new Map<string, OptionSpec>();
  for (const o of COMMANDS.find((c) => c.name === 'analyze')!.options) {
    options.set(`--${o.name}`, o);
    if (o.alias !== undefined) options.set(`-${o.alias}`, o);
  }
  const inputs: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-' || !arg.startsWith('-')) {
      inputs.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const option = options.get(flag);
    if (option === undefined || option.type === 'array' || option.name === 'follow') return null;
    if (option.type === 'boolean') {
      // yargs takes a following "true"/"false" as the flag's value.
      if (eq < 0 && (argv[i + 1] === 'true' || argv[i + 1] === 'false')) i++;
      continue;
    }
    if (eq < 0) i++; // its value
  }
  return inputs;
}

/** Starts the first input's reader thread when it will be read on one (stdin, a large .gz). */
export function readAheadFromArgv(argv: readonly string[]): void {
  const inputs = analyzeInputsFromArgv(argv);
  if (inputs !== null && inputs.length > 0) startReadingAhead(inputs[0]!);
}
