/**
 * Splits a line written in TOML exactly as keepalived writes it into pseudo-tokens, so the
 * keepalived codecs can read it. Same rules as keepalived's word splitter (lib/parser.c,
 * alloc_strvec_r): words are separated by whitespace; a word that starts with '"' runs to
 * the next '"' (no escapes) and loses the quotes; an unquoted word also ends at a '"'.
 */
import type { Issue } from "../diag.ts";
import type { Tok } from "../keepalived/types.ts";

const SPACE = " \t\f\n\r\v";

export interface Words {
  readonly toks: Tok[];
  readonly issues: Issue[];
}

/** Tokens carry file "", line 1 and col = 1-based character offset of the word's start. */
export function splitWords(s: string): Words {
  const toks: Tok[] = [];
  const issues: Issue[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && SPACE.includes(s[i]!)) i++;
    if (i >= s.length) break;
    const col = i + 1;
    if (s[i] === '"') {
      const end = s.indexOf('"', i + 1);
      if (end < 0) {
        // keepalived reports the unmatched quote and drops the rest of the line.
        issues.push({
          code: "unterminated-quote",
          // A message column counts characters, as a Loc does.
          message: `unmatched '"' at column ${[...s.slice(0, i)].length + 1}`,
          at: toks.length,
        });
        break;
      }
      toks.push({ file: "", line: 1, col, text: s.slice(i + 1, end), quoted: true });
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < s.length && !SPACE.includes(s[j]!) && s[j] !== '"') j++;
    toks.push({ file: "", line: 1, col, text: s.slice(i, j), quoted: false });
    i = j;
  }
  return { toks, issues };
}
