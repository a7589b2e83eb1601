/**
 * The strict exposition-format parser the metrics tests rely on (test/helpers/prom-parse.ts)
 * must itself be able to fail: every rule it enforces has an input that breaks it.
 */
import { describe, expect, test } from "bun:test";
import { PromParseError, parseProm, promSample } from "./prom-parse.ts";

describe("prom-parse (the test's own parser)", () => {
  test("reads a well-formed exposition, escapes and all", () => {
    const text = [
      "# HELP up_total A counter.\\nSecond line \\\\ done",
      "# TYPE up_total counter",
      'up_total{a="q\\"x\\\\y\\nz",b="2",} 3 1700000000000',
      "# a plain comment",
      "",
      "# TYPE h histogram",
      'h_bucket{le="0.5"} 1',
      'h_bucket{le="+Inf"} 2',
      "h_sum 0.7",
      "h_count 2",
      "untyped_thing -1.5e-3",
      "g NaN",
      "",
    ].join("\n");
    const f = parseProm(text);
    expect(f.get("up_total")?.type).toBe("counter");
    expect(f.get("up_total")?.help).toBe("A counter.\nSecond line \\ done");
    const s = promSample(f, "up_total", { a: 'q"x\\y\nz', b: "2" });
    expect(s?.value).toBe(3);
    expect(s?.timestampMs).toBe(1700000000000);
    expect(f.get("h")?.samples.length).toBe(4);
    expect(f.get("untyped_thing")?.type).toBe("untyped");
    expect(promSample(f, "untyped_thing")?.value).toBe(-0.0015);
    expect(Number.isNaN(promSample(f, "g")?.value)).toBe(true);
  });

  const bad: [string, string, RegExp][] = [
    ["no final line feed", "a 1", /line feed/],
    ["duplicate series", 'a{x="1"} 1\na{x="1"} 2\n', /twice/],
    ["duplicate series, labels reordered", 'a{x="1",y="2"} 1\na{y="2",x="1"} 2\n', /twice/],
    ["TYPE after samples", "a 1\n# TYPE a gauge\n", /after its samples/],
    ["second TYPE", "# TYPE a gauge\n# TYPE a gauge\n", /second TYPE/],
    ["second HELP", "# HELP a x\n# HELP a y\n", /second HELP/],
    ["unknown type", "# TYPE a meter\n", /unknown type/],
    ["malformed TYPE", "# TYPE\n", /malformed/],
    ["bad metric name", "9a 1\n", /metric name/],
    ["no value", "a\n", /blank before the value/],
    ["bad value", "a one\n", /bad value/],
    ["too many fields", "a 1 2 3\n", /value \[timestamp\]/],
    ["bad timestamp", "a 1 soon\n", /timestamp/],
    ["unquoted label value", "a{x=1} 1\n", /to open label/],
    ["unterminated label value", 'a{x="1} 1\n', /unterminated/],
    ["bad label name", 'a{1x="1"} 1\n', /label name/],
    ["reserved label name", 'a{__x="1"} 1\n', /reserved/],
    ["missing comma", 'a{x="1" y="2"} 1\n', /expected "," or "}"/],
    ["bad escape", 'a{x="\\t"} 1\n', /bad escape/],
    ["label twice", 'a{x="1",x="2"} 1\n', /twice/],
    ["counter without _total", "# TYPE a_count counter\na_count 1\n", /_total/],
    ["negative counter", "# TYPE a_total counter\na_total -1\n", /value -1/],
    ["family split in two groups", 'a 1\nb 1\na{x="y"} 1\n', /one group/],
    [
      "histogram without +Inf",
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',
      /\+Inf/,
    ],
    [
      "histogram not cumulative",
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      /cumulative/,
    ],
    [
      "histogram _count differs",
      '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
      /_count differs/,
    ],
    ["histogram without _sum", '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 2\n', /_sum/],
    ["histogram bucket without le", "# TYPE h histogram\nh_bucket 2\n", /"le"/],
  ];
  for (const [what, text, why] of bad)
    test(`rejects: ${what}`, () => {
      expect(() => parseProm(text)).toThrow(PromParseError);
      expect(() => parseProm(text)).toThrow(why);
    });

  test("a counter without _total passes only when asked not to care", () => {
    expect(parseProm("# TYPE a counter\na 1\n", { requireTotalSuffix: false }).get("a")?.type).toBe(
      "counter",
    );
  });
});
