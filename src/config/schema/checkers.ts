/** Health checker blocks inside `real_server` (reference §1.14) and the `SSL` block (§1.15). */
import { scalar } from "./args.ts";
import { Fail, host, int, ip, port, str } from "./atoms.ts";
import {
  Bool,
  Enum,
  Flag,
  Int,
  OptValue,
  RunAs,
  Script,
  Secs,
  Str,
  tuple,
  Weight,
  Words,
} from "./common.ts";
import { arg, block, repeat } from "./dsl.ts";

/** Timing keywords every checker (MISC_CHECK included) takes; also inherited from RS and VS. */
export const checkTiming = {
  connect_timeout: Secs(0.001, 86400),
  retry: Int(0, 2147483647),
  delay_before_retry: Secs(0, 86400),
  warmup: Secs(0, 86400),
  delay_loop: Secs(0.001, 86400),
  alpha: Bool(),
  log_all_failures: Bool(),
} as const;

/** Where and how to connect: every checker but MISC, BFD and FILE. */
const connect = {
  connect_ip: arg(scalar(host)),
  connect_port: arg(scalar(port)),
  bindto: arg(scalar(ip())),
  bind_port: arg(scalar(port)),
  bind_if: Str("an interface"),
  fwmark: Int(0, 4294967295),
} as const;

const common = { ...connect, ...checkTiming } as const;
const commonAliases = { nb_get_retry: "retry" } as const;

/** `status_code 200-299 404`: a code or an inclusive range, kept as written ("200-299"). */
const statusCode = {
  what: "an HTTP status code or range A-B",
  example: "200-299",
  parse(text: string): string | Fail {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(text);
    if (!m) return new Fail("bad-value", `'${text}' is not an HTTP status code or range A-B`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a < 100 || b > 599 || b < a)
      return new Fail("out-of-range", `'${text}' is not within 100-599 (A ≤ B)`);
    return m[2] === undefined ? String(a) : `${a}-${b}`;
  },
  check(v: unknown): string | Fail {
    if (typeof v === "number" || typeof v === "bigint") {
      const t = String(v);
      return /^\d{3}$/.test(t)
        ? this.parse(t)
        : new Fail("out-of-range", `${t} is not an HTTP status code (100-599)`);
    }
    return typeof v === "string"
      ? this.parse(v)
      : new Fail("bad-type", 'expected a status code or "A-B"');
  },
  show: (v: string) => v,
};

const hex = (what: string, even = false, wild = false) => ({
  what,
  example: "0a0b0c0d",
  parse(text: string): string | Fail {
    const ok = wild ? /^[0-9A-Fa-fXx]+$/ : /^[0-9A-Fa-f]+$/;
    if (!ok.test(text) || (even && text.length % 2))
      return new Fail("bad-value", `'${text}' is not ${what}`);
    return text.toLowerCase();
  },
  check(v: unknown): string | Fail {
    return typeof v === "string" ? this.parse(v) : new Fail("bad-type", `expected ${what}`);
  },
  show: (v: string) => v,
});

const md5 = {
  ...hex("an MD5 digest (32 hex digits)"),
  example: "640205b7b0fc66c1ea91c463fac6334d",
  parse(text: string): string | Fail {
    return /^[0-9A-Fa-f]{32}$/.test(text)
      ? text.toLowerCase()
      : new Fail("bad-value", `'${text}' is not an MD5 digest (32 hex digits)`);
  },
};

export const url = repeat(
  block({
    path: Str("a URL path"),
    digest: arg(scalar(md5)),
    status_code: Words(statusCode, 1),
    virtualhost: Str("a host name"),
    regex: Str("a regular expression"),
    regex_no_match: Flag(),
    regex_options: Words(str()),
    regex_stack: arg(
      tuple({
        start: { atom: int(1, 2147483647), pos: 0, required: true },
        max: { atom: int(1, 2147483647), pos: 1 },
      }),
    ),
    regex_min_offset: Int(0, 2147483647),
    regex_max_offset: Int(0, 2147483647),
    tls_compliant: Bool(),
  }),
);

const http = {
  ...common,
  http_protocol: Enum(["1.0", "1.0C", "1.1"] as const),
  virtualhost: Str("a host name"),
  fast_recovery: Bool(),
  tls_compliant: Bool(),
  url,
} as const;

export const checkers = {
  HTTP_GET: repeat(block(http, commonAliases)),
  SSL_GET: repeat(
    block({ ...http, enable_sni: Flag(), sni_name: Str("a host name") }, commonAliases),
  ),
  TCP_CHECK: repeat(block(common, commonAliases)),
  SMTP_CHECK: repeat(
    block(
      { ...common, helo_name: Str("a host name"), host: repeat(block(common, commonAliases)) },
      commonAliases,
    ),
  ),
  DNS_CHECK: repeat(
    block(
      {
        ...common,
        type: Enum(
          ["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA", "RRSIG", "DNSKEY"] as const,
          true,
        ),
        name: Str("a DNS name"),
      },
      commonAliases,
    ),
  ),
  MISC_CHECK: repeat(
    block({
      ...checkTiming,
      misc_path: Script(),
      misc_timeout: Secs(0.001, 86400),
      misc_dynamic: Flag(),
      user: RunAs(),
    }),
  ),
  BFD_CHECK: repeat(block({ name: Str("a bfd_instance"), alpha: Bool() })),
  UDP_CHECK: repeat(
    block(
      {
        ...common,
        payload: arg(scalar(hex("hex bytes", true))),
        require_reply: OptValue("pattern", hex("hex bytes (X/x nibble wildcards)", false, true)),
        min_reply_length: Int(0, 65535),
        max_reply_length: Int(0, 65535),
      },
      commonAliases,
    ),
  ),
  PING_CHECK: repeat(block(common, commonAliases)),
  FILE_CHECK: repeat(
    block({ track_file: Str("a track_file name"), weight: Weight(-2147483647, 2147483647) }),
  ),
} as const;

export const sslBlock = block({
  password: Str("a password"),
  ca: Str("a path"),
  certificate: Str("a path"),
  key: Str("a path"),
});
