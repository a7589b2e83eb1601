#!/usr/bin/env bun
/**
 * Generates docs/config.md from the schema: the mapping rules, one example per block in
 * both syntaxes, and a table of every keyword with what it takes and its TOML form.
 * `bun scripts/config-doc.ts` rewrites the file; test/docs.test.ts fails if it is stale.
 */
import { writeFileSync } from "node:fs";
import { KEEPALIVED_LACKS } from "../src/config/emit-keepalived.ts";
import { formatValue } from "../src/config/emit-toml.ts";
import type { AnySpec, BlockSpec, Fields } from "../src/config/schema/dsl.ts";
import { rootSpec } from "../src/config/schema/root.ts";
import { EXAMPLES } from "./config-doc-examples.ts";

const INTRO = `# Configuration reference

The agent reads two syntaxes into one model. A file whose name ends in \`.toml\` is TOML;
anything else is keepalived syntax, read the way keepalived 2.2–2.4 reads it (comments,
quoting, \`include\`, \`$PARAMETERS\`, \`@id\` lines, \`~SEQ\`/\`~LST\`). \`agent convert\` turns one
into the other without loss (or refuses, naming the value keepalived syntax cannot carry), and \`agent check --print\` shows the normalized model (every
default filled in) as TOML, or as JSON with \`--json\`.

## How keepalived syntax maps to TOML

| keepalived | TOML | example |
| --- | --- | --- |
| \`keyword value\` | \`keyword = value\`, typed (numbers, booleans, strings) | \`priority 100\` → \`priority = 100\` |
| a flag alone | \`true\` | \`nopreempt\` → \`nopreempt = true\` |
| \`block { … }\` | a table | \`[global_defs]\` |
| \`block NAME { … }\` | a table keyed by name | \`[vrrp_instance.VI_1]\` |
| a repeatable block with a head (\`virtual_server IP PORT { … }\`, \`real_server\`, checkers, \`url\`) | an array of tables; the head's words become \`ip\`, \`port\`, \`fwmark\` or \`group\` | \`[[virtual_server]]\` + \`ip = "192.0.2.1"\` |
| a block of lines (\`virtual_ipaddress { … }\`, \`track_script { … }\`) | an array, one item per line | \`virtual_ipaddress = ["192.0.2.1/24 dev eth0"]\` |
| several words (\`weight -20 reverse\`, \`smtp_server A 25\`) | an inline table keyed by the option words; the first word alone may stand for the table | \`weight = { value = -20, reverse = true }\` or \`weight = -20\` |
| a script (\`notify "/bin/x a" user\`) | an argv array, or \`{ command = [...], user = "…" }\` | \`notify = ["/bin/x", "a"]\` |
| an address, route or rule line | an inline table keyed by the line's words, **or the line itself as a string** | \`{ address = "192.0.2.1/24", dev = "eth0" }\` |

Values are checked by the same rules in both syntaxes, and every problem is reported as
\`file:line:col: error|warning: message [code]\`. keepalived's old spellings (\`lb_algo\`,
\`lb_kind\`, \`nb_get_retry\`, …) are accepted in keepalived syntax and stored under the
current name. Extensions that keepalived lacks are marked *(extension)*;
\`agent convert --to keepalived\` writes them as they are, and keepalived would warn about them.
Where \`agent check\` and \`keepalived -t\` disagree, and why, is in
[keepalived-differences.md](keepalived-differences.md).
`;

/** Keys keepalived cannot read (emit-keepalived.ts KEEPALIVED_LACKS); NAME matches any block name. */
const isExtension = (name: string): boolean => {
  const p = name.split(".").map((s) => (s === "NAME" ? "*" : s));
  return KEEPALIVED_LACKS.some((pat) => pat.length <= p.length && pat.every((s, i) => s === p[i]));
};

function row(name: string, spec: AnySpec): string[] {
  const ext = isExtension(name) ? " *(extension)*" : "";
  const dep = spec.deprecated ? ` *(deprecated: ${spec.deprecated})*` : "";
  switch (spec.kind) {
    case "arg":
    case "multi": {
      const v = spec.codec.toToml(spec.codec.example);
      const toml = formatValue(spec.kind === "multi" ? [v] : v, 0, true);
      const takes = spec.kind === "multi" ? `${spec.codec.what} (repeatable)` : spec.codec.what;
      return [`| \`${name}\`${ext}${dep} | ${esc(takes)} | \`${esc(toml)}\` |`];
    }
    case "lines":
      return [
        `| \`${name}\`${ext}${dep} | ${esc(spec.perWord ? `a list: ${spec.codec.what}` : spec.codec.what)} | \`${esc(formatValue([spec.codec.toToml(spec.codec.example)], 0, true))}\` |`,
      ];
    case "namedLines":
      return [
        `| \`${name}.NAME\` | ${esc(spec.lines.codec.what)} | \`${esc(formatValue([spec.lines.codec.toToml(spec.lines.codec.example)], 0, true))}\` |`,
      ];
    case "block":
      return rows(spec, `${name}.`);
    case "named":
      return rows(spec.block, `${name}.NAME.`);
    case "repeat":
      return [
        ...(spec.head.keys.length
          ? [
              `| \`${name}[]\` head | ${spec.head.keys.join(", ")} | \`${esc(formatValue(spec.head.example as never, 0, true))}\` |`,
            ]
          : []),
        ...rows(spec.block, `${name}[].`),
      ];
  }
}

function rows(spec: BlockSpec<Fields>, prefix: string): string[] {
  return Object.entries(spec.fields).flatMap(([k, s]) => row(`${prefix}${k}`, s));
}

const esc = (s: string) => s.replace(/\|/g, "\\|");

export function renderConfigDoc(): string {
  const out = [INTRO, "## Blocks, by example", ""];
  for (const ex of EXAMPLES) {
    out.push(
      `### \`${ex.key}\``,
      "",
      ex.about,
      "",
      "```toml",
      ex.toml,
      "```",
      "",
      "```",
      ex.keepalived,
      "```",
      "",
    );
  }
  out.push(
    "## Every keyword",
    "",
    "Names are TOML paths (`NAME` is a block's name, `[]` an array item).",
    "",
  );
  out.push("| keyword | takes | TOML example |", "| --- | --- | --- |");
  const root = rootSpec as unknown as BlockSpec<Fields>;
  out.push(...rows(root, ""), "");
  const aliases: string[] = [];
  const collect = (spec: BlockSpec<Fields>, prefix: string): void => {
    for (const [a, t] of Object.entries(spec.aliases))
      aliases.push(`| \`${a}\` | \`${prefix}${t.to}\` |`);
    for (const [k, s] of Object.entries(spec.fields)) {
      if (s.kind === "block") collect(s, `${prefix}${k}.`);
      if (s.kind === "named") collect(s.block, `${prefix}${k}.NAME.`);
      if (s.kind === "repeat") collect(s.block, `${prefix}${k}[].`);
    }
  };
  collect(root, "");
  out.push(
    "## keepalived's other spellings",
    "",
    "| keepalived word | stored as |",
    "| --- | --- |",
    ...new Set(aliases),
    "",
  );
  return out.join("\n");
}

if (import.meta.main) {
  writeFileSync(`${import.meta.dir}/../docs/config.md`, renderConfigDoc());
  process.stderr.write("wrote docs/config.md\n");
}
