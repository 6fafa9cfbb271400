// Flow keys: direction-free, 30-bit, and spread well enough for the typed-array tables that use them
// (AttemptIndex takes key & mask as the home slot). The endpoint hash is a multilinear sum plus one
// mixing round; on realistic structured endpoint sets it must not collide at all.
import { describe, expect, it } from 'vitest';
import { endpointHash, flowCheck, flowKey } from '../src/handshake/flow-key.js';
import { seededRandom } from './helpers/capture-feed.js';

const v4 = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

function collisions(endpoints: Iterable<[number, number, number, number, number]>): { count: number; collisions: number } {
  const seen = new Set<number>();
  let count = 0;
  let collided = 0;
  for (const [w0, w1, w2, w3, port] of endpoints) {
    count++;
    const h = endpointHash(w0, w1, w2, w3, port) >>> 0;
    if (seen.has(h)) collided++;
    else seen.add(h);
  }
  return { count, collisions: collided };
}

describe('flow keys', () => {
  it('are the same in both directions (key and check), 30-bit and non-negative', () => {
    const random = seededRandom(3);
    const word = (): number => Math.floor(random() * 2 ** 32);
    for (let i = 0; i < 10_000; i++) {
      const a = [word(), i % 2 === 0 ? 0 : word(), i % 2 === 0 ? 0 : word(), i % 2 === 0 ? 0 : word(), Math.floor(random() * 65536)] as const;
      const b = [word(), i % 2 === 0 ? 0 : word(), i % 2 === 0 ? 0 : word(), i % 2 === 0 ? 0 : word(), Math.floor(random() * 65536)] as const;
      const key = flowKey(...a, ...b);
      expect(flowKey(...b, ...a)).toBe(key);
      expect(flowCheck(...b, ...a)).toBe(flowCheck(...a, ...b));
      expect(key).toBeGreaterThanOrEqual(0);
      expect(key).toBeLessThan(2 ** 30);
      expect(Number.isInteger(key)).toBe(true);
    }
  });

  it('give distinct endpoint hashes to pod addresses × consecutive ports, and collide no more than chance on random ones', () => {
    function* pods(): Generator<[number, number, number, number, number]> {
      for (let c = 0; c < 16; c++) for (let d = 0; d < 256; d++) for (let port = 30000; port < 30100; port++) yield [v4(10, 244, c, d), 0, 0, 0, port];
    }
    function* podsV6(): Generator<[number, number, number, number, number]> {
      for (let host = 0; host < 4096; host++) for (let port = 32000; port < 32100; port++) yield [0xfd000000, 0, 0x02440000 + (host >> 8), host & 0xff, port];
    }
    const random = seededRandom(11);
    function* nodes(): Generator<[number, number, number, number, number]> {
      for (let i = 0; i < 400_000; i++) yield [v4(10, 0, 0, 0) + Math.floor(random() * 2 ** 24), 0, 0, 0, Math.floor(random() * 65536)];
    }
    // Structured sets (one address word varies, consecutive ports): the sum is one-to-one there.
    expect(collisions(pods())).toEqual({ count: 409_600, collisions: 0 });
    expect(collisions(podsV6())).toEqual({ count: 409_600, collisions: 0 });
    // Random endpoints (24 + 16 bits into 32): as often as a random 32-bit function, n² / 2^33 ≈ 18.6.
    const unique = new Map<string, [number, number, number, number, number]>();
    for (const e of nodes()) unique.set(`${e[0]}:${e[4]}`, e);
    const { count, collisions: collided } = collisions(unique.values());
    expect(collided).toBeLessThan((3 * count * count) / 2 ** 33);
  });

  it('spread flows evenly over the low bits the hash tables index by', () => {
    const buckets = new Uint32Array(1 << 16);
    const n = 500_000;
    for (let i = 0; i < n; i++) {
      // Clients of one pod network on NodePort-range source ports to a few dozen servers on one port.
      const key = flowKey(v4(10, 244, (i >> 8) & 15, i & 255), 0, 0, 0, 30000 + ((i >> 12) % 2768), v4(10, 96, 0, i % 37), 0, 0, 0, 8080);
      buckets[key & 0xffff]!++;
    }
    let sumOfSquares = 0;
    for (const b of buckets) sumOfSquares += b * b;
    // For uniform keys the expected sum of squares is n²/buckets + n (Poisson); structure would inflate it.
    const ratio = sumOfSquares / ((n * n) / buckets.length + n);
    expect(ratio).toBeGreaterThan(0.97);
    expect(ratio).toBeLessThan(1.03);
  });
});
