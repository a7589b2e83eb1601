/**
 * A document that uses every keyword of the schema once, with each codec's example value.
 * The round-trip tests write it in both formats and read it back; the reference in
 * docs/config.md is generated from the same examples.
 */
import type { AnySpec, BlockSpec, Fields } from "./dsl.ts";

type Obj = Record<string, unknown>;

export function exampleOf(spec: AnySpec): unknown {
  switch (spec.kind) {
    case "arg":
      return structuredClone(spec.codec.example);
    case "multi":
    case "lines":
      return [structuredClone(spec.codec.example)];
    case "block":
      return exampleBlock(spec);
    case "named":
      return { example: exampleBlock(spec.block) };
    case "namedLines":
      return { example: [structuredClone(spec.lines.codec.example)] };
    case "repeat":
      return [{ ...structuredClone(spec.head.example), ...exampleBlock(spec.block) }];
  }
}

/**
 * Every field once, except one that an earlier field switches off (`preempt` after
 * `nopreempt`): keepalived syntax keeps only the later line and TOML reports the pair as a
 * conflict, so a document holding both could not round-trip.
 */
export function exampleBlock(spec: BlockSpec<Fields>): Obj {
  const out: Obj = {};
  for (const [k, child] of Object.entries(spec.fields)) {
    const clashes = (child.clears ?? []).some((c) => c in out);
    if (!clashes) out[k] = exampleOf(child);
  }
  return out;
}
