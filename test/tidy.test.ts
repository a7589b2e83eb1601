/**
 * House rules the compiler can't check (design §3): import directions between the parts,
 * bun:ffi only in native/, and a pure core (no clock, randomness, console or OS).
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { REPO } from "./helpers/env.ts";

function files(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(files(p));
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** The part a file belongs to: src/<part>/…, src/<file>.ts, or native. */
function part(abs: string): string {
  const rel = relative(REPO, abs);
  const [top, second] = rel.split("/");
  if (top === "native") return "native";
  if (top !== "src" || second === undefined) return `outside:${rel}`;
  return second.endsWith(".ts") ? second.replace(/\.ts$/, "") : second;
}

/** Which parts each part may import (itself always). */
const ALLOWED: Record<string, readonly string[]> = {
  main: ["cli"],
  cli: ["agent", "config", "core", "io", "log", "errors", "version", "demo"],
  demo: ["agent", "config", "core", "io", "log", "errors"],
  agent: ["core", "config", "io", "log", "errors", "version"],
  config: ["core", "errors", "log"],
  io: ["native", "core", "errors", "log"],
  core: [],
  log: [],
  errors: [],
  version: ["outside:package.json"],
  native: ["errors"],
};

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)].map((m) => (m[1] ?? m[2]) as string);
}

const sources = [...files(`${REPO}/src`), ...files(`${REPO}/native`).filter(Boolean)];

describe("tidy", () => {
  test("import directions between parts", () => {
    const bad: string[] = [];
    for (const f of sources) {
      const from = part(f);
      for (const spec of imports(f)) {
        if (!spec.startsWith(".")) continue;
        const to = part(resolve(dirname(f), spec));
        if (to !== from && !(ALLOWED[from] ?? []).includes(to))
          bad.push(`${relative(REPO, f)} → ${spec} (${from} → ${to})`);
      }
    }
    expect(bad).toEqual([]);
  });

  test("bun:ffi only in native/", () => {
    const bad = sources
      .filter((f) => part(f) !== "native" && imports(f).includes("bun:ffi"))
      .map((f) => relative(REPO, f));
    expect(bad).toEqual([]);
  });

  test("the core is pure: no packages, OS, clock, randomness or console", () => {
    const bad: string[] = [];
    for (const f of sources.filter((x) => part(x) === "core")) {
      const text = readFileSync(f, "utf8");
      for (const spec of imports(f))
        if (!spec.startsWith(".")) bad.push(`${relative(REPO, f)} imports ${spec}`);
      for (const word of [
        "Math.random",
        "Date.now",
        "new Date(",
        "performance.now",
        "console.",
        "setTimeout",
        "process.",
        "Bun.",
      ])
        if (text.includes(word)) bad.push(`${relative(REPO, f)} uses ${word}`);
    }
    expect(bad).toEqual([]);
  });

  test("the rule table knows every part", () => {
    const parts = new Set(sources.map(part));
    expect([...parts].filter((p) => !(p in ALLOWED))).toEqual([]);
  });
});
