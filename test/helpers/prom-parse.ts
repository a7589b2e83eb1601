/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests of what
 * /metrics serves. Stricter than Prometheus' own where the format says "must" and where
 * OpenMetrics (the format's successor) turned a convention into a rule: it rejects malformed
 * lines, bad label syntax and escapes, a series given twice, a TYPE after the family's
 * samples, a family's lines split into two groups, counters not named *_total, negative
 * counters, and histograms whose buckets are not cumulative or lack +Inf / _sum / _count.
 */

export type PromType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestampMs?: number;
}

export interface PromFamily {
  readonly name: string;
  type: PromType;
  help?: string;
  readonly samples: PromSample[];
}

export class PromParseError extends Error {
  override readonly name = "PromParseError";
  constructor(
    /** 1-based line number, 0 for the text as a whole. */
    readonly line: number,
    message: string,
  ) {
    super(line > 0 ? `line ${line}: ${message}` : message);
  }
}

export interface PromParseOptions {
  /** Counters must be named *_total (OpenMetrics; Prometheus' naming rules). Default true. */
  readonly requireTotalSuffix?: boolean;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const TYPES: readonly PromType[] = ["counter", "gauge", "histogram", "summary", "untyped"];

function parseValue(s: string, line: number): number {
  if (s === "+Inf" || s === "Inf") return Number.POSITIVE_INFINITY;
  if (s === "-Inf") return Number.NEGATIVE_INFINITY;
  if (s === "NaN") return Number.NaN;
  if (!FLOAT.test(s)) throw new PromParseError(line, `bad value "${s}"`);
  return Number(s);
}

/** Unescape a HELP text: only \\ and \n are escapes there. */
function unescapeHelp(s: string, line: number): string {
  return s.replace(/\\(.?)/g, (_, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    throw new PromParseError(line, `bad escape "\\${c}" in HELP`);
  });
}

/** `{a="x",b="y"}` from position i of `text`; returns the labels and the position after `}`. */
function parseLabels(
  text: string,
  start: number,
  line: number,
): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  const skipBlank = () => {
    while (text[i] === " " || text[i] === "\t") i++;
  };
  for (;;) {
    skipBlank();
    if (text[i] === "}") return { labels, end: i + 1 };
    const nameStart = i;
    while (i < text.length && /[a-zA-Z0-9_]/.test(text[i] ?? "")) i++;
    const name = text.slice(nameStart, i);
    if (!LABEL_NAME.test(name))
      throw new PromParseError(line, `bad label name at column ${nameStart + 1}`);
    if (name.startsWith("__")) throw new PromParseError(line, `reserved label name "${name}"`);
    if (Object.hasOwn(labels, name)) throw new PromParseError(line, `label "${name}" given twice`);
    skipBlank();
    if (text[i] !== "=") throw new PromParseError(line, `expected "=" after label "${name}"`);
    i++;
    skipBlank();
    if (text[i] !== '"') throw new PromParseError(line, `expected '"' to open label "${name}"`);
    i++;
    let value = "";
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new PromParseError(line, `unterminated value of label "${name}"`);
      i++;
      if (c === '"') break;
      if (c !== "\\") {
        value += c;
        continue;
      }
      const e = text[i++];
      if (e === "\\") value += "\\";
      else if (e === '"') value += '"';
      else if (e === "n") value += "\n";
      else throw new PromParseError(line, `bad escape "\\${e ?? ""}" in label "${name}"`);
    }
    labels[name] = value;
    skipBlank();
    if (text[i] === ",") i++;
    else if (text[i] !== "}")
      throw new PromParseError(line, `expected "," or "}" after label "${name}"`);
  }
}

function parseSampleLine(text: string, line: number): PromSample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(text);
  if (!nameMatch) throw new PromParseError(line, "a sample must start with a metric name");
  const name = nameMatch[0];
  let rest = text.slice(name.length);
  let labels: Record<string, string> = {};
  if (rest.startsWith("{")) {
    const parsed = parseLabels(rest, 0, line);
    labels = parsed.labels;
    rest = rest.slice(parsed.end);
  }
  if (!/^[ \t]/.test(rest))
    throw new PromParseError(line, `expected a blank before the value of ${name}`);
  const fields = rest.trim().split(/[ \t]+/);
  if (fields.length > 2 || fields[0] === "")
    throw new PromParseError(line, `expected "value [timestamp]"`);
  const value = parseValue(fields[0] ?? "", line);
  const ts = fields[1];
  if (ts !== undefined && !/^-?[0-9]+$/.test(ts))
    throw new PromParseError(line, `bad timestamp "${ts}"`);
  return ts === undefined
    ? { name, labels, value }
    : { name, labels, value, timestampMs: Number(ts) };
}

const seriesKey = (s: PromSample) =>
  `${s.name}{${Object.keys(s.labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(s.labels[k])}`)
    .join(",")}}`;

/** Which family a sample belongs to: its own name, or a histogram/summary's by suffix. */
function familyOf(families: Map<string, PromFamily>, name: string): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const t = families.get(base)?.type;
    if (t === "histogram" || (t === "summary" && suffix !== "_bucket")) return base;
  }
  return name;
}

class State {
  readonly families = new Map<string, PromFamily>();
  private readonly withSamples = new Set<string>();
  private readonly closed = new Set<string>();
  private readonly series = new Set<string>();
  private readonly typed = new Set<string>();
  private current: string | undefined;

  constructor(private readonly opts: PromParseOptions) {}

  /** Lines of one family must form one group: returning to a left family is an error. */
  private enter(name: string, line: number): PromFamily {
    if (this.current !== name) {
      if (this.closed.has(name))
        throw new PromParseError(line, `lines of ${name} are not one group`);
      if (this.current !== undefined) this.closed.add(this.current);
      this.current = name;
    }
    let f = this.families.get(name);
    if (!f) {
      f = { name, type: "untyped", samples: [] };
      this.families.set(name, f);
    }
    return f;
  }

  comment(text: string, line: number): void {
    const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(text);
    if (!m) {
      if (/^#[ \t]+(HELP|TYPE)\b/.test(text)) throw new PromParseError(line, `malformed ${text}`);
      return; // an ordinary comment
    }
    const [, kind, name = "", arg] = m;
    if (!METRIC_NAME.test(name)) throw new PromParseError(line, `bad metric name "${name}"`);
    const f = this.enter(name, line);
    if (kind === "HELP") {
      if (f.help !== undefined) throw new PromParseError(line, `second HELP for ${name}`);
      f.help = unescapeHelp(arg ?? "", line);
      return;
    }
    if (this.withSamples.has(name))
      throw new PromParseError(line, `TYPE of ${name} after its samples`);
    if (this.typed.has(name)) throw new PromParseError(line, `second TYPE for ${name}`);
    const type = (arg ?? "").trim() as PromType;
    if (!TYPES.includes(type))
      throw new PromParseError(line, `unknown type "${arg ?? ""}" for ${name}`);
    if (type === "counter" && (this.opts.requireTotalSuffix ?? true) && !name.endsWith("_total"))
      throw new PromParseError(line, `counter ${name} is not named *_total`);
    f.type = type;
    this.typed.add(name);
  }

  sample(text: string, line: number): void {
    const s = parseSampleLine(text, line);
    const fname = familyOf(this.families, s.name);
    const f = this.enter(fname, line);
    const key = seriesKey(s);
    if (this.series.has(key)) throw new PromParseError(line, `series ${key} given twice`);
    this.series.add(key);
    this.checkSample(f, s, line);
    f.samples.push(s);
    this.withSamples.add(fname);
  }

  private checkSample(f: PromFamily, s: PromSample, line: number): void {
    if (f.type === "counter" && !(s.value >= 0))
      throw new PromParseError(line, `counter ${s.name} has value ${s.value}`);
    if (f.type === "histogram") {
      const isBucket = s.name === `${f.name}_bucket`;
      if (isBucket !== Object.hasOwn(s.labels, "le"))
        throw new PromParseError(line, `${s.name}: "le" belongs on _bucket samples only`);
      if (isBucket) parseValue(s.labels.le ?? "", line);
    }
  }
}

/** Buckets per label set: ascending le, cumulative counts, +Inf present and equal to _count. */
function checkHistogram(f: PromFamily): void {
  const groups = new Map<
    string,
    { le: number[]; counts: number[]; count?: number; sum?: number }
  >();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(key) ?? { le: [], counts: [] };
    groups.set(key, g);
    if (s.name.endsWith("_bucket")) {
      g.le.push(parseValue(le ?? "", 0));
      g.counts.push(s.value);
    } else if (s.name.endsWith("_count")) g.count = s.value;
    else g.sum = s.value;
  }
  for (const [key, g] of groups) {
    const where = `histogram ${f.name} ${key}`;
    for (let i = 1; i < g.le.length; i++) {
      if (!((g.le[i] ?? 0) > (g.le[i - 1] ?? 0)))
        throw new PromParseError(0, `${where}: le not ascending`);
      if ((g.counts[i] ?? 0) < (g.counts[i - 1] ?? 0))
        throw new PromParseError(0, `${where}: bucket counts not cumulative`);
    }
    if (g.le.at(-1) !== Number.POSITIVE_INFINITY)
      throw new PromParseError(0, `${where}: no +Inf bucket`);
    if (g.count === undefined || g.sum === undefined)
      throw new PromParseError(0, `${where}: _sum and _count are required`);
    if (g.count !== g.counts.at(-1))
      throw new PromParseError(0, `${where}: _count differs from +Inf bucket`);
  }
}

export function parseProm(text: string, opts: PromParseOptions = {}): Map<string, PromFamily> {
  if (text !== "" && !text.endsWith("\n"))
    throw new PromParseError(0, "the text must end with a line feed");
  const st = new State(opts);
  const lines = text.split("\n");
  lines.pop();
  lines.forEach((l, n) => {
    const line = n + 1;
    if (/^[ \t]*$/.test(l)) return;
    if (l.startsWith("#")) st.comment(l, line);
    else st.sample(l, line);
  });
  for (const f of st.families.values()) if (f.type === "histogram") checkHistogram(f);
  return st.families;
}

/** The one sample with exactly these labels, or undefined. */
export function promSample(
  families: Map<string, PromFamily>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): PromSample | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const f of families.values())
    for (const s of f.samples)
      if (s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want) return s;
  return undefined;
}

/** Every sample of that name. */
export function promSamples(families: Map<string, PromFamily>, name: string): PromSample[] {
  return [...families.values()].flatMap((f) => f.samples.filter((s) => s.name === name));
}
