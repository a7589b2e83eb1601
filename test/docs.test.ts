/**
 * The docs stay true: docs/config.md is what the schema generates, each block example
 * reads the same in both syntaxes, and the README's commands and numbers are present.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { renderConfigDoc } from "../scripts/config-doc.ts";
import { EXAMPLES } from "../scripts/config-doc-examples.ts";
import { loadText } from "../src/config/load.ts";
import { REPO } from "./helpers/env.ts";

describe("docs/config.md", () => {
  test("is up to date with the schema (regenerate: bun scripts/config-doc.ts)", () => {
    expect(readFileSync(`${REPO}/docs/config.md`, "utf8")).toBe(renderConfigDoc());
  });
  for (const ex of EXAMPLES) {
    test(`the ${ex.key} example says the same in TOML and keepalived syntax`, () => {
      const t = loadText(ex.toml, "/ex.toml", "toml", { offline: true });
      const k = loadText(ex.keepalived, "/ex.conf", "keepalived", { offline: true });
      const frontEnd = (l: typeof t) =>
        l.diagnostics.filter((d) => !/reference|sync-group|no-vip|route-untracked/.test(d.code));
      expect(frontEnd(t)).toEqual([]);
      expect(frontEnd(k)).toEqual([]);
      expect(t.raw).toEqual(k.raw);
      expect(Object.keys(t.raw)).toContain(ex.key);
    });
  }
});
