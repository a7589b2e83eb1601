import { expect, test } from "bun:test";
import { MinHeap } from "../../src/core/heap.ts";
import { mulberry32 } from "../../src/core/prng.ts";

test("pops in key order, equal keys all come out, interleaved pushes and pops (seeded)", () => {
  const seed = Number(process.env.SEED ?? 4242);
  console.log(`heap property test seed=${seed} (replay with SEED=${seed})`);
  const rand = mulberry32(seed);
  const h = new MinHeap<number>();
  const model: number[] = [];
  for (let step = 0; step < 20_000; step++) {
    if (rand() < 0.6 || model.length === 0) {
      const k = Math.floor(rand() * 1000);
      h.push(k, k);
      model.push(k);
    } else {
      model.sort((a, b) => a - b);
      const want = model.shift();
      expect({ seed, step, got: h.peekKey() }).toEqual({ seed, step, got: want });
      expect(h.pop()).toBe(want as number);
    }
    expect(h.size).toBe(model.length);
  }
  h.clear();
  expect(h.pop()).toBeUndefined();
  expect(h.peekKey()).toBeUndefined();
});
