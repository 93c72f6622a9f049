/**
 * Paths as people paste them at a question (issue 10). Dragging a file into a terminal, or copying a name from
 * `ls`, gives it shell-quoted: `'/home/me/Downloads/acme key.json'`, `"~/Downloads/acme key.json"`,
 * `~/Downloads/acme\ key.json`. A question is not a shell, so the quoting is undone here, then `~` is expanded.
 */
import { isAbsolute, resolve } from 'node:path';

/**
 * Undoes POSIX shell quoting of one word: single quotes (literal), double quotes (where `\` escapes only
 * `$`, `` ` ``, `"`, `\` and a newline), and backslash escapes outside quotes (`acme\ key.json`). Quoted and
 * unquoted parts may be joined, as in a shell (`'/tmp/a b'/c`). Surrounding blanks are dropped. A `file://`
 * URL (some terminals paste those) becomes its path.
 * @returns the text without its quoting; the trimmed text as typed when its quotes are unbalanced (then the
 *   quote is more likely part of the name than shell syntax).
 */
export function unquoteShellWord(text: string): string {
  const word = text.trim();
  if (/^file:\/\//i.test(word)) {
    try {
      return decodeURIComponent(new URL(word).pathname);
    } catch {
      return word;
    }
  }
  let out = '';
  let i = 0;
  while (i < word.length) {
    const ch = word[i] as string;
    if (ch === "'") {
      const end = word.indexOf("'", i + 1);
      if (end < 0) return word;
      out += word.slice(i + 1, end);
      i = end + 1;
    } else if (ch === '"') {
      let j = i + 1;
      let closed = false;
      while (j < word.length) {
        const c = word[j] as string;
        if (c === '"') {
          closed = true;
          break;
        }
        if (c === '\\' && j + 1 < word.length && '$`"\\\n'.includes(word[j + 1] as string)) {
          if (word[j + 1] !== '\n') out += word[j + 1];
          j += 2;
          continue;
        }
        out += c;
        j++;
      }
      if (!closed) return word;
      i = j + 1;
    } else if (ch === '\\' && i + 1 < word.length) {
      if (word[i + 1] !== '\n') out += word[i + 1];
      i += 2;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/**
 * `~` and `~/…` -> the home directory; a relative path -> absolute (from the current directory).
 * @param home the home directory (the wizard's context: os.homedir() unless a test says otherwise).
 */
export function expandHome(path: string, home: string): string {
  const p = path.replace(/^~(?=$|\/)/, home);
  return isAbsolute(p) ? p : resolve(p);
}

/** A key-file path as typed or pasted -> the absolute path to read: unquoted, then `~` expanded. */
export function typedPath(typed: string, home: string): string {
  return expandHome(unquoteShellWord(typed), home);
}
