/**
 * Lossless conversion: for any config, keepalived → model equals keepalived → TOML → model,
 * and TOML → keepalived → model. Checked on a generated document that uses every keyword of
 * the schema, on the shipped examples and fixtures, and on Debian's keepalived samples.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { formatDiagnostic } from "../../src/config/diag.ts";
import { emitKeepalived } from "../../src/config/emit-keepalived.ts";
import { emitToml } from "../../src/config/emit-toml.ts";
import { type ConfigFormat, formatOf, type Loaded, loadText } from "../../src/config/load.ts";
import type { BlockSpec, Fields } from "../../src/config/schema/dsl.ts";
import { exampleBlock } from "../../src/config/schema/example.ts";
import { rootSpec } from "../../src/config/schema/root.ts";
import { REPO } from "../helpers/env.ts";

/** Codes only a front end emits: if one shows up, something failed to read back. */
const FRONT_END_CODES = new Set([
  "unknown-keyword",
  "unknown-option",
  "unknown-field",
  "duplicate-option",
  "extra-argument",
  "missing-argument",
  "missing-field",
  "missing-name",
  "bad-number",
  "bad-value",
  "bad-type",
  "bad-address",
  "out-of-range",
  "toml-syntax",
  "unexpected-brace",
  "missing-brace",
  "unterminated-quote",
  "unmatched-quote",
]);

const load = (text: string, file: string, format: ConfigFormat): Loaded =>
  loadText(text, file, format, { offline: true });
const emit = (raw: unknown, to: ConfigFormat): string =>
  to === "toml"
    ? emitToml(raw as Record<string, unknown>)
    : emitKeepalived(raw as Record<string, unknown>);
const other = (f: ConfigFormat): ConfigFormat => (f === "toml" ? "keepalived" : "toml");

function frontEndProblems(l: Loaded): string[] {
  return l.diagnostics.filter((d) => FRONT_END_CODES.has(d.code)).map(formatDiagnostic);
}

describe("every keyword of the schema", () => {
  const doc = exampleBlock(rootSpec as unknown as BlockSpec<Fields>);
  for (const format of ["keepalived", "toml"] as const) {
    test(`written as ${format} and read back unchanged`, () => {
      const text = emit(doc, format);
      const back = load(text, `/every.${format === "toml" ? "toml" : "conf"}`, format);
      expect(frontEndProblems(back)).toEqual([]);
      expect(back.raw).toEqual(doc as typeof back.raw);
    });
  }
  test("the document really covers the whole schema", () => {
    const count = (spec: BlockSpec<Fields>): number =>
      Object.values(spec.fields).reduce((n, f) => {
        if (f.kind === "block") return n + 1 + count(f);
        if (f.kind === "named" || f.kind === "repeat") return n + 1 + count(f.block);
        return n + 1;
      }, 0);
    const keywords = count(rootSpec as unknown as BlockSpec<Fields>);
    expect(keywords).toBeGreaterThan(350);
    expect(emitKeepalived(doc).split("\n").length).toBeGreaterThan(keywords);
  });
});

/** Config files to round-trip: name → [path, format]. */
function corpus(): [string, string][] {
  const files: string[] = [];
  for (const dir of [`${REPO}/examples/nginx-pair`, `${REPO}/test/fixtures/keepalived-check`]) {
    for (const f of readdirSync(dir)) if (/\.(conf|toml)$/.test(f)) files.push(`${dir}/${f}`);
  }
  const samples = "/usr/share/doc/keepalived/samples";
  if (existsSync(samples))
    for (const f of readdirSync(samples))
      if (f.startsWith("keepalived.conf.")) files.push(`${samples}/${f}`);
  return files.map((f) => [f.replace(`${REPO}/`, ""), f]);
}

describe("files convert both ways without loss", () => {
  for (const [name, file] of corpus()) {
    test(name, () => {
      const format = formatOf(file);
      const a = load(readFileSync(file, "utf8"), file, format);
      const there = load(
        emit(a.raw, other(format)),
        `/converted.${other(format) === "toml" ? "toml" : "conf"}`,
        other(format),
      );
      const back = load(
        emit(there.raw, format),
        `/back.${format === "toml" ? "toml" : "conf"}`,
        format,
      );
      expect(frontEndProblems(there)).toEqual([]);
      expect(there.raw).toEqual(a.raw);
      expect(back.raw).toEqual(a.raw);
      // A valid file gives the same model every way round. (An invalid one has lost what
      // was wrong before conversion; `agent convert` refuses it, so only the raw is compared.)
      if (a.model) {
        expect(there.model).toEqual(a.model);
        expect(back.model).toEqual(a.model);
      }
    });
  }
});

/**
 * The model without track_http (an extension keepalived syntax could carry, but that the
 * .conf examples leave out so keepalived itself can run them).
 */
function withoutTrackHttp(m: unknown): unknown {
  const doc = structuredClone(m) as Record<string, unknown> & {
    vrrp_instance: Record<string, Record<string, unknown>>;
  };
  expect(Object.keys(doc.track_http as object).length).toBeGreaterThan(0);
  doc.track_http = {};
  for (const i of Object.values(doc.vrrp_instance)) {
    expect(i.track_http).toBeDefined();
    delete i.track_http;
  }
  return doc;
}

describe("the two front ends give one model", () => {
  for (const node of ["lb1", "lb2"]) {
    test(`examples/nginx-pair/${node}.conf and ${node}.toml (but for the TOML's track_http)`, () => {
      const dir = `${REPO}/examples/nginx-pair`;
      const ka = load(
        readFileSync(`${dir}/${node}.conf`, "utf8"),
        `${dir}/${node}.conf`,
        "keepalived",
      );
      const toml = load(readFileSync(`${dir}/${node}.toml`, "utf8"), `${dir}/${node}.toml`, "toml");
      expect(ka.diagnostics).toEqual([]);
      expect(toml.diagnostics).toEqual([]);
      expect(toml.model).toBeDefined();
      expect(withoutTrackHttp(toml.model)).toEqual(ka.model);
    });
  }
});
