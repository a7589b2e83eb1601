/**
 * A script-type keyword's value (script, notify*, misc_path, …), split the way keepalived
 * splits it (config/lines/shell.ts). Shared by the config, which parses it, and the shell,
 * which runs it.
 */
export interface ScriptCommand {
  /** argv; [0] is the program, never empty. */
  readonly command: readonly string[];
  /** Run as this user (default: global script_user, else keepalived_script or root). */
  readonly user?: string;
  /** Primary group (default: the user's). */
  readonly group?: string;
  /** Also set the user's supplementary groups (written as ":" before the group). */
  readonly supplementary?: boolean;
}
