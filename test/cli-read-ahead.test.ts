// The CLI finds a .gz input before yargs has loaded, to start inflating it early (src/cli/read-ahead.ts).
// That scan must never take a flag's value for an input, and must give up on anything it cannot place.
import { describe, expect, it } from 'vitest';
import { analyzeInputsFromArgv } from '../src/cli/read-ahead.js';

describe('analyzeInputsFromArgv', () => {
  it('finds the inputs of an analyze command line, skipping flags and their values', () => {
    expect(analyzeInputsFromArgv(['analyze', 'a.pcap.gz'])).toEqual(['a.pcap.gz']);
    expect(analyzeInputsFromArgv(['analyze', '--format', 'json', 'a.pcap.gz', 'b.pcap'])).toEqual(['a.pcap.gz', 'b.pcap']);
    expect(analyzeInputsFromArgv(['analyze', '-f', 'json', '-o', 'out.json', 'a.gz'])).toEqual(['a.gz']);
    expect(analyzeInputsFromArgv(['analyze', '--format=json', '--max-pending=10', 'a.gz'])).toEqual(['a.gz']);
    expect(analyzeInputsFromArgv(['analyze', '--output', '-', 'a.gz'])).toEqual(['a.gz']);
    expect(analyzeInputsFromArgv(['analyze', '-'])).toEqual(['-']);
    // Booleans take no value, or an explicit true/false.
    expect(analyzeInputsFromArgv(['analyze', '--all-attempts', 'a.gz'])).toEqual(['a.gz']);
    expect(analyzeInputsFromArgv(['analyze', '--all-attempts', 'false', 'a.gz'])).toEqual(['a.gz']);
    expect(analyzeInputsFromArgv(['analyze', '--evidence', 'ev.pcap', 'a.gz', '--sysctl', 'gz'])).toEqual(['a.gz']);
  });

  it('gives up (null) on what it cannot place for certain, and on other commands', () => {
    expect(analyzeInputsFromArgv([])).toBeNull();
    expect(analyzeInputsFromArgv(['check', '--sysctl', 'x'])).toBeNull();
    expect(analyzeInputsFromArgv(['merge', 'a.json'])).toBeNull();
    expect(analyzeInputsFromArgv(['analyze', '--no-such-flag', 'a.gz'])).toBeNull();
    expect(analyzeInputsFromArgv(['analyze', '--maxPending', '5', 'a.gz'])).toBeNull();
    expect(analyzeInputsFromArgv(['analyze', '--vxlan-port', '4789', '8472', 'a.gz'])).toBeNull();
    expect(analyzeInputsFromArgv(['analyze', '--', 'a.gz'])).toBeNull();
    expect(analyzeInputsFromArgv(['analyze', '--follow', '-'])).toBeNull();
    expect(analyzeInputsFromArgv(['analyze', '-xf', 'json', 'a.gz'])).toBeNull();
  });
});
