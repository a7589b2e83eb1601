/**
 * Who a script runs as: keepalived's set_uid_gid / get_default_script_user
 * (keepalived/core/notify.c) over a user database.
 *  - A script's own "user [[:]group]" wins; else global script_user; else the user
 *    `keepalived_script` if it exists; else our own uid:gid. Under enable_script_security a
 *    missing keepalived_script (with no script_user) is an error: scripts without a user of
 *    their own are not run (reference §1.3; keepalived issue #2184).
 *  - The primary gid is the named group's, else the user's.
 *  - Supplementary groups are cleared unless ":" was written before the group (or the global
 *    set_supplementary_groups is on); then they are the user's group list as getgrouplist()
 *    gives it for the user's own primary gid (not the named group).
 * Names are looked up once, at config time: `getent` (so NSS sources such as LDAP count, as
 * with keepalived's getpwnam_r) and `id -G` for group lists; files when getent is missing.
 */
import { existsSync, readFileSync } from "node:fs";

export interface UserEntry {
  readonly uid: number;
  readonly gid: number;
}

/** Lookups return undefined for "no such name" and throw when the lookup itself fails. */
export interface UserDb {
  user(name: string): UserEntry | undefined;
  group(name: string): number | undefined;
  /** getgrouplist(name, gid): gid first, then every group listing the user as a member. */
  groupList(name: string, gid: number): readonly number[];
}

/** The ids a script runs with. `groups` empty or absent: supplementary groups cleared. */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
  readonly groups?: readonly number[];
}

/** A user given in the config (a script's own, or global script_user). */
export interface UserSpec {
  readonly user: string;
  readonly group?: string;
  readonly supplementary?: boolean;
}

export type RunAsCode = "unknown-user" | "unknown-group" | "lookup-failed" | "no-default-user";

export type RunAsResult =
  | { readonly ok: true; readonly runAs: RunAs }
  | {
      readonly ok: false;
      readonly code: RunAsCode;
      /** The user or group name that failed. */
      readonly subject: string;
      readonly message: string;
    };

/** keepalived's default script user. */
export const DEFAULT_SCRIPT_USER = "keepalived_script";

function fields(line: string): string[] {
  return line.split(":");
}

/** A UserDb over passwd(5) and group(5) text (tests, and hosts without getent). */
export function filesUserDb(passwdText: string, groupText: string): UserDb {
  const users = new Map<string, UserEntry>();
  for (const line of passwdText.split("\n")) {
    const [name, , uid, gid] = fields(line);
    if (name && uid && gid && !users.has(name)) users.set(name, { uid: +uid, gid: +gid });
  }
  const groups: { name: string; gid: number; members: string[] }[] = [];
  for (const line of groupText.split("\n")) {
    const [name, , gid, members] = fields(line);
    if (name && gid) groups.push({ name, gid: +gid, members: (members ?? "").split(",") });
  }
  return {
    user: (name) => users.get(name),
    group: (name) => groups.find((g) => g.name === name)?.gid,
    groupList: (name, gid) => {
      const out = [gid];
      for (const g of groups) if (g.members.includes(name) && !out.includes(g.gid)) out.push(g.gid);
      return out;
    },
  };
}

function run(argv: string[]): { code: number; out: string } {
  const r = Bun.spawnSync(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, out: r.stdout.toString() };
}

/** One getent record for `name` (exit 2 is "not found"), matched by name, never by number. */
function getent(db: "passwd" | "group", name: string): string[] | undefined {
  const r = run(["getent", db, "--", name]);
  if (r.code === 2) return undefined;
  if (r.code !== 0) throw new Error(`getent ${db} ${name} exited with ${r.code}`);
  // getent also answers a number as an id; keepalived's getpwnam_r/getgrnam_r do not.
  const f = fields(r.out.split("\n")[0] ?? "");
  return f[0] === name ? f : undefined;
}

/** The host's user database through NSS (getent, id), else /etc/passwd and /etc/group. */
export function systemUserDb(): UserDb {
  if (!Bun.which("getent") || !Bun.which("id")) {
    const read = (p: string) => (existsSync(p) ? readFileSync(p, "utf8") : "");
    return filesUserDb(read("/etc/passwd"), read("/etc/group"));
  }
  return {
    user: (name) => {
      const f = getent("passwd", name);
      return f ? { uid: Number(f[2]), gid: Number(f[3]) } : undefined;
    },
    group: (name) => {
      const f = getent("group", name);
      return f ? Number(f[2]) : undefined;
    },
    groupList: (name, gid) => {
      // `id -G USER` is getgrouplist(USER, the user's passwd gid), which is what we pass.
      const r = run(["id", "-G", "--", name]);
      if (r.code !== 0) throw new Error(`id -G ${name} exited with ${r.code}`);
      const ids = r.out.trim().split(/\s+/).filter(Boolean).map(Number);
      return [gid, ...ids.filter((g) => g !== gid)];
    },
  };
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** keepalived's set_uid_gid(): names → ids, or which name is unknown. */
export function lookupRunAs(spec: UserSpec, db: UserDb, supplementaryAlways = false): RunAsResult {
  try {
    const user = db.user(spec.user);
    if (!user) {
      return {
        ok: false,
        code: "unknown-user",
        subject: spec.user,
        message: `script user '${spec.user}' does not exist`,
      };
    }
    let gid = user.gid;
    // An empty group (":" alone in the config) names none: keepalived's set_uid_gid.
    if (spec.group !== undefined && spec.group !== "") {
      const g = db.group(spec.group);
      if (g === undefined) {
        return {
          ok: false,
          code: "unknown-group",
          subject: spec.group,
          message: `script group '${spec.group}' does not exist`,
        };
      }
      gid = g;
    }
    const sup = spec.supplementary === true || supplementaryAlways;
    const groups = sup ? db.groupList(spec.user, user.gid) : [];
    return { ok: true, runAs: { uid: user.uid, gid, groups } };
  } catch (e) {
    return {
      ok: false,
      code: "lookup-failed",
      subject: spec.user,
      message: `cannot look up script user '${spec.user}': ${errText(e)}`,
    };
  }
}

export interface DefaultUserPolicy {
  /** Global script_user. */
  readonly scriptUser?: UserSpec | undefined;
  readonly scriptSecurity?: boolean | undefined;
  /** Global set_supplementary_groups. */
  readonly setSupplementaryGroups?: boolean | undefined;
}

/** keepalived's get_default_script_user(): who runs scripts that name no user. */
export function defaultRunAs(
  policy: DefaultUserPolicy,
  db: UserDb,
  self: { uid: number; gid: number },
): RunAsResult {
  const sup = policy.setSupplementaryGroups === true;
  if (policy.scriptUser) {
    const r = lookupRunAs(policy.scriptUser, db, sup);
    return r.ok ? r : { ...r, message: `script_user: ${r.message}` };
  }
  const r = lookupRunAs({ user: DEFAULT_SCRIPT_USER }, db, sup);
  if (r.ok) return r;
  if (policy.scriptSecurity === true) {
    return {
      ok: false,
      code: "no-default-user",
      subject: DEFAULT_SCRIPT_USER,
      message:
        `enable_script_security is set, no script_user is given and ${r.message}: ` +
        "scripts without a user of their own are not run",
    };
  }
  // Falling back to our own ids keeps no supplementary groups (keepalived: none stored).
  return { ok: true, runAs: { uid: self.uid, gid: self.gid, groups: [] } };
}
