/**
 * mkfifo(3) through bun:ffi: node:fs can open, stat, chown and unlink a FIFO but has no
 * call to create one. Failures throw AgentError as native/libc.ts does (the call, its
 * subject, strerror text and the symbolic errno in a SyscallFailure cause); the path
 * errnos libc.ts does not name yet are named here.
 */
import { dlopen } from "bun:ffi";
import { AgentError } from "../src/errors.ts";
import { cString } from "./layout.ts";
import { errno, errnoName, SyscallFailure, strerror } from "./libc.ts";

const C = dlopen("libc.so.6", {
  mkfifo: { args: ["ptr", "u32"], returns: "i32" },
}).symbols;

export const EEXIST = 17;

// biome-ignore format: a table
const PATH_ERRNOS: Record<number, string> = {
  17: "EEXIST", 20: "ENOTDIR", 21: "EISDIR", 28: "ENOSPC", 30: "EROFS", 36: "ENAMETOOLONG",
  40: "ELOOP",
};

function failPath(call: string, detail: string, path: string, e: number): never {
  const name = PATH_ERRNOS[e] ?? errnoName(e);
  throw new AgentError("E_SOCKET", `${call}(${detail}): ${strerror(e)} [${name}]`, path, {
    cause: new SyscallFailure(call, name, e),
  });
}

/**
 * Creates a FIFO with `mode` (the process umask still applies, as in mkfifo(3)).
 * Returns "exists" when something already has that name (EEXIST): whether it is a usable
 * FIFO is for the caller to check after opening it. Other failures throw.
 */
export function mkfifo(path: string, mode: number): "created" | "exists" {
  if (C.mkfifo(cString(path), mode) === 0) return "created";
  const e = errno();
  if (e === EEXIST) return "exists";
  failPath("mkfifo", `${path}, 0${mode.toString(8)}`, path, e);
}
