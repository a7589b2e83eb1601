/**
 * The Prometheus text exposition format 0.0.4: label and HELP escaping, values, and a metric
 * family that groups its samples under one HELP/TYPE and never repeats a series.
 */

export type MetricType = "counter" | "gauge" | "histogram";
export type Labels = Readonly<Record<string, string>>;

const NEEDS_ESCAPE = /[\\"\n]/;

/** Label values escape backslash, double quote and line feed (exposition format 0.0.4). */
export function escapeLabelValue(s: string): string {
  // Nearly every value needs nothing: skip the three passes then.
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text escapes backslash and line feed only. */
function escapeHelp(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

export function formatLabels(labels: Labels): string {
  let out = "";
  for (const k in labels)
    out += `${out === "" ? "{" : ","}${k}="${escapeLabelValue(labels[k] ?? "")}"`;
  return out === "" ? "" : `${out}}`;
}

/** One metric family: its HELP and TYPE, then its samples as one group, never a series twice. */
export class Family {
  private body = "";
  private readonly seen = new Set<string>();
  constructor(
    readonly name: string,
    private readonly type: MetricType,
    private readonly help: string,
  ) {}

  add(labels: Labels, value: number, suffix = ""): this {
    return this.addFormatted(formatLabels(labels), value, suffix);
  }

  /** With the label text formatted once for many families (per-instance counters). */
  addFormatted(labelText: string, value: number, suffix = ""): this {
    // Two equal series would make the whole scrape invalid; the first one stands.
    const key = suffix === "" ? labelText : `${suffix}${labelText}`;
    if (this.seen.has(key)) return this;
    this.seen.add(key);
    this.body += `${this.name}${suffix}${labelText} ${formatValue(value)}\n`;
    return this;
  }

  /** "" for a family without samples: nothing to describe. */
  text(): string {
    if (this.body === "") return "";
    const head = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
    return `${head}${this.body}`;
  }
}
