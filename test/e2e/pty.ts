/**
 * Runs a command in a real pseudo-terminal (tmux) and reads its screen, for the wizard tests (DESIGN §6:
 * "Wizard tests drive the real built CLI in a pseudo-terminal and read the screen").
 *
 * Every terminal lives on a tmux server of our own (`-L fea-wizard-<pid>`, its own config), in a session
 * with a unique name; `close()` kills that session only. The pane stays after the command exits
 * (`remain-on-exit`), so the last screen can still be read; the exit status is kept in a file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SOCKET = `fea-wizard-${process.pid}`;
let configFile: string | undefined;
let rcDirectory: string | undefined;
let counter = 0;

/** Whether tmux can be used here. */
export function tmuxAvailable(): boolean {
  return spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
}

function rcDir(): string {
  rcDirectory ??= mkdtempSync(path.join(os.tmpdir(), 'fea-tmux-'));
  return rcDirectory;
}

function tmux(...args: string[]): string {
  if (!configFile) {
    configFile = path.join(rcDir(), 'tmux.conf');
    // remain-on-exit: keep the pane (and its last screen) after the command exits; a long history: the plan
    // and the progress lines scroll.
    writeFileSync(configFile, 'set -g remain-on-exit on\nset -g history-limit 10000\nset -g status off\n');
  }
  return execFileSync('tmux', ['-L', SOCKET, '-f', configFile, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface Terminal {
  /** The tmux session name (unique per terminal). */
  readonly name: string;
  /** Everything the terminal shows, scrollback included, wrapped lines joined. */
  screen(): string;
  /**
   * Polls the screen until `what` appears (a string, or a RegExp tested against the whole screen) or the command
   * exits without it, or `timeoutMs` passes; resolves with the screen. Rejects with the screen in the message.
   * With `after`, only text after the last occurrence of `after` counts (questions re-rendered in place).
   */
  waitFor(what: string | RegExp, opts?: { timeoutMs?: number; after?: string }): Promise<string>;
  /** Types text literally (no key names). */
  type(text: string): void;
  /** Sends tmux key names: 'Enter', 'Space', 'Down', 'C-c', 'C-u', 'BSpace'… */
  keys(...keys: string[]): void;
  /** Resolves with the exit status once the command has exited (or rejects after `timeoutMs`). */
  exitCode(timeoutMs?: number): Promise<number>;
  /** Kill this session (idempotent). */
  close(): void;
}

/**
 * Starts `argv` in a new tmux session of `cols` x `rows`, with exactly `env` as its environment
 * (through `env -i`, so nothing of the tmux server's environment leaks in) and `cwd` as its directory.
 */
export function openTerminal(argv: string[], opts: { env: Record<string, string>; cwd: string; cols?: number; rows?: number }): Terminal {
  const name = `wiz-${process.pid}-${++counter}`;
  const rcFile = path.join(rcDir(), `${name}.rc`);
  const envArgs = Object.entries({ ...opts.env, TERM: 'screen' }).map(([k, v]) => `${k}=${v}`);
  // The exit status goes through a file written by a wrapping sh: tmux does not always reap a pane's process
  // promptly (it was seen left a zombie, pane dead but no #{pane_dead_status}), so tmux cannot be asked.
  tmux(
    'new-session', '-d', '-s', name, '-x', String(opts.cols ?? 200), '-y', String(opts.rows ?? 50), '-c', opts.cwd,
    '--', 'env', '-i', ...envArgs, 'sh', '-c', 'rc="$1"; shift; "$@"; echo "$?" > "$rc.tmp" && mv "$rc.tmp" "$rc"', 'sh', rcFile, ...argv,
  );
  let closed = false;
  const status = (): { dead: boolean; code: number } => {
    if (!existsSync(rcFile)) return { dead: false, code: NaN };
    return { dead: true, code: Number(readFileSync(rcFile, 'utf8').trim()) };
  };
  const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-', '-t', name).replace(/\s+$/, '\n');
  const term: Terminal = {
    name,
    screen,
    async waitFor(what, waitOpts = {}) {
      const deadline = Date.now() + (waitOpts.timeoutMs ?? 15_000);
      for (;;) {
        const full = screen();
        const at = waitOpts.after ? full.lastIndexOf(waitOpts.after) : -1;
        const text = at >= 0 ? full.slice(at + (waitOpts.after?.length ?? 0)) : full;
        if (typeof what === 'string' ? text.includes(what) : what.test(text)) return full;
        const dead = status().dead;
        if (dead || Date.now() > deadline) {
          throw new Error(`${dead ? 'the command exited' : 'timed out'} waiting for ${String(what)}; screen:\n${full}`);
        }
        await new Promise((r) => setTimeout(r, 40));
      }
    },
    type(text) {
      tmux('send-keys', '-t', name, '-l', text);
    },
    keys(...keys) {
      tmux('send-keys', '-t', name, ...keys);
    },
    async exitCode(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = status();
        if (s.dead) return s.code;
        if (Date.now() > deadline) throw new Error(`the command did not exit within ${timeoutMs} ms; screen:\n${screen()}`);
        await new Promise((r) => setTimeout(r, 40));
      }
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        tmux('kill-session', '-t', name);
      } catch {
        // already gone (the server exits with its last session)
      }
    },
  };
  return term;
}

/**
 * Removes the config and exit-status files, and our tmux socket once its server has gone (tmux exits with its
 * last session but leaves the socket file). Call after the suite's terminals are closed.
 */
export function removeTerminalFiles(): void {
  if (spawnSync('tmux', ['-L', SOCKET, 'list-sessions'], { stdio: 'ignore' }).status !== 0) {
    const uid = process.getuid?.() ?? 0;
    rmSync(path.join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${uid}`, SOCKET), { force: true });
  }
  if (rcDirectory) rmSync(rcDirectory, { recursive: true, force: true });
  rcDirectory = undefined;
  configFile = undefined;
}
