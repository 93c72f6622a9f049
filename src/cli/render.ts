/**
 * All terminal output. Results go to stdout (with --json: exactly one JSON document), progress and logs
 * to stderr. Colour only on a TTY and without --no-color / NO_COLOR.
 */
import type { Outcome, ProvisionEvent } from '../provision/events.js';
import { Chalk } from 'chalk';
import { envFlag } from '../config/validate.js';

export interface Output {
  json: boolean;
  color: boolean;
  /** Progress as a live task list (stderr is a terminal and colour is on); otherwise plain lines. */
  live: boolean;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  c: Colors;
}

/** The few colours the CLI uses. */
export interface Colors {
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

/** chalk's colour levels: none, basic 16 colours, 256 colours, truecolor. */
export type ColorLevel = 0 | 1 | 2 | 3;

/**
 * How much colour, decided once per run, first rule that applies:
 * 1. `--no-color`: none (the command line beats the environment).
 * 2. FORCE_COLOR, read as chalk and Node read it: `0`/`false` none; `2` 256 colours; `3` (or more)
 *    truecolor; `1`, `true`, empty or anything else basic colours. It applies even into a pipe, and wins over
 *    NO_COLOR as in Node.
 * 3. NO_COLOR (any non-empty value, no-color.org) or LW_NOCOLOR (on, as envFlag reads it): none.
 * 4. Basic colours when what the CLI writes to is a terminal (stderr, and stdout unless --json, where stdout
 *    holds only the JSON) and TERM is not `dumb`; otherwise none.
 */
export function colorLevel(
  opts: { json?: boolean; color?: boolean },
  env: NodeJS.ProcessEnv,
  tty: { stdout: boolean; stderr: boolean },
): ColorLevel {
  if (opts.color === false) return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined) {
    if (/^\s*(0|false)\s*$/i.test(force)) return 0;
    const n = Number.parseInt(force, 10);
    return n >= 3 ? 3 : n === 2 ? 2 : 1;
  }
  if (env.NO_COLOR || envFlag(env, 'LW_NOCOLOR')) return 0;
  return tty.stderr && (opts.json || tty.stdout) && env.TERM !== 'dumb' ? 1 : 0;
}

/** The CLI's colours (chalk), at a level (or true = basic colours, false = none). */
export function colors(level: ColorLevel | boolean): Colors {
  return new Chalk({ level: level === true ? 1 : level === false ? 0 : level });
}

export function makeOutput(opts: { json?: boolean; color?: boolean }, env: NodeJS.ProcessEnv = process.env): Output {
  const tty = !!(process.stderr.isTTY && (opts.json || process.stdout.isTTY));
  const level = colorLevel(opts, env, { stdout: !!process.stdout.isTTY, stderr: !!process.stderr.isTTY });
  const color = level > 0;
  // The live task list redraws stderr: only on a real terminal, whatever FORCE_COLOR says.
  const live = color && tty && env.TERM !== 'dumb';
  return { json: !!opts.json, color, live, out: process.stdout, err: process.stderr, c: colors(level) };
}

/** A line for people: to stdout normally, to stderr under --json (stdout holds only the JSON). */
export function say(o: Output, line = ''): void {
  (o.json ? o.err : o.out).write(line + '\n');
}

export function warn(o: Output, line: string): void {
  o.err.write(o.c.yellow(`warning: ${line}`) + '\n');
}

export function errorLine(o: Output, line: string): void {
  o.err.write(o.c.red(`error: `) + line + '\n');
}

const stamp = () => new Date().toISOString().slice(11, 19);

/** `IAM role x` or `subscription filter y (us-east-1)`. */
export const labelOf = (label: string, name: string, region: string) => `${label} ${name}${region !== 'global' ? ` (${region})` : ''}`;

const verbOf = (kind: string, op: string) =>
  ({
    create: kind === 'eks-audit-logging' ? 'enabling' : 'creating',
    update: kind === 'eks-audit-logging' ? 'enabling' : 'changing',
    replace: 'replacing',
    delete: kind === 'eks-audit-logging' ? 'restoring' : kind === 'kms-key' ? 'scheduling deletion of' : 'deleting',
    restore: 'restoring',
  })[op] ?? op;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** What happened to a resource, in the words people read (DESIGN §4: deleted, already gone, turned off, kept, scheduled). */
export function outcomeWords(kind: string, outcome: Outcome, detail?: string): string {
  if (kind === 'eks-audit-logging') {
    if (outcome === 'changed' || outcome === 'created') return 'audit logging turned on';
    if (outcome === 'turned-off' || outcome === 'restored') return 'audit logging turned back off';
    if (outcome === 'already-gone') return 'audit logging already off (or cluster gone)';
    if (outcome === 'kept') return `audit logging left on${detail ? ` (${detail})` : ''}`;
  }
  switch (outcome) {
    case 'scheduled-for-deletion':
      return `scheduled for deletion on ${detail ? detail.slice(0, 10) : '(date not given)'}`;
    case 'already-gone':
      return 'already gone';
    case 'kept':
      return detail ? `kept (${detail})` : 'kept';
    case 'adopted':
      return 'made by another run at the same time: used';
    default:
      return outcome;
  }
}

/**
 * Progress on stderr: a live task list on a terminal (see {@link liveProgress}), otherwise plain
 * timestamped lines. With --json, stdout still holds only the JSON document: progress never goes there.
 */
export function progressPrinter(o: Output): (e: ProvisionEvent) => void {
  return o.live ? liveProgress(o) : plainProgress(o);
}

const PHASES: Record<string, string> = { rollback: 'Rolling back', teardown: 'Tearing down', remove: 'Removing what the inputs no longer want' };

/** The line a phase that prints one (`PHASES`) prints; a rollback in yellow. */
function phaseLine(o: Output, e: { phase: string; message?: string }): string {
  const text = `${PHASES[e.phase]}${e.message ? `: ${e.message}` : '…'}`;
  return e.phase === 'rollback' ? o.c.yellow(text) : text;
}

/** Plain timestamped lines, one per event (stderr is not a terminal, or --no-color / NO_COLOR). */
export function plainProgress(o: Output): (e: ProvisionEvent) => void {
  const names = new Map<string, string>();
  const line = (text: string) => o.err.write(`${o.c.dim(`[${stamp()}]`)} ${text}\n`);
  return (e) => {
    switch (e.type) {
      case 'phase':
        if (PHASES[e.phase]) line(phaseLine(o, e));
        break;
      case 'start': {
        const label = labelOf(e.label, e.name, e.region);
        names.set(e.key, label);
        line(`${verbOf(e.kind, e.op)} ${label}`);
        break;
      }
      case 'progress':
        line(o.c.dim(`  ${names.get(e.key) ?? e.key}: ${e.message}`));
        break;
      case 'done': {
        const label = names.get(e.key) ?? labelOf(e.label, e.name, e.region);
        const took = e.ms >= 100 ? ` (${seconds(e.ms)})` : '';
        line(`${o.c.green('✓')} ${label}: ${outcomeWords(e.kind, e.outcome, e.detail)}${took}`);
        break;
      }
      case 'failed':
        line(`${o.c.red('✗')} ${names.get(e.key) ?? labelOf(e.label, e.name, e.region)}: ${e.message}`);
        break;
    }
  };
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

interface Running {
  label: string;
  verb: string;
  started: number;
  note?: string;
}

/**
 * The live task list for a terminal: every running task on its own line (spinner, step, region, elapsed
 * time, and what it waits for), redrawn in place; a finished task becomes a permanent line above the
 * list. Lines are cut to the terminal width so the redraw never miscounts wrapped lines, and the list
 * shows at most as many tasks as fit on the screen. The timer is unref'd: it never keeps the process alive.
 */
export function liveProgress(o: Output, opts: { now?: () => number; intervalMs?: number } = {}): (e: ProvisionEvent) => void {
  const out = o.err as NodeJS.WritableStream & { columns?: number; rows?: number };
  const now = opts.now ?? Date.now;
  const running = new Map<string, Running>();
  const names = new Map<string, string>();
  let drawn = 0;
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;

  const fit = (text: string) => {
    const width = Math.max(20, (out.columns ?? 80) - 1);
    return text.length > width ? `${text.slice(0, width - 1)}…` : text;
  };
  const erase = () => {
    if (drawn > 0) out.write(`\r\x1b[${drawn}A\x1b[J`);
    drawn = 0;
  };
  const draw = () => {
    erase();
    const maxLines = Math.max(3, (out.rows ?? 24) - 2);
    const tasks = [...running.values()];
    const shown = tasks.length > maxLines ? tasks.slice(0, maxLines - 1) : tasks;
    const spin = SPINNER[frame % SPINNER.length] as string;
    const lines = shown.map((t) => {
      const plain = fit(`${spin} ${t.verb} ${t.label}  ${seconds(now() - t.started)}${t.note ? `  ${t.note}` : ''}`);
      return o.c.cyan(plain.slice(0, 1)) + plain.slice(1);
    });
    if (tasks.length > shown.length) lines.push(o.c.dim(`  … and ${tasks.length - shown.length} more running`));
    if (lines.length > 0) out.write(lines.join('\n') + '\n');
    drawn = lines.length;
  };
  // A finished task's line scrolls like any output (a wrapped one does no harm above the list).
  const permanent = (text: string) => {
    erase();
    out.write(text + '\n');
  };
  const tick = () => {
    frame++;
    draw();
  };
  const sync = () => {
    if (running.size > 0 && !timer) {
      timer = setInterval(tick, opts.intervalMs ?? 100);
      timer.unref();
    } else if (running.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
    draw();
  };

  return (e) => {
    switch (e.type) {
      case 'phase':
        if (PHASES[e.phase]) permanent(phaseLine(o, e));
        break;
      case 'start': {
        const label = labelOf(e.label, e.name, e.region);
        names.set(e.key, label);
        running.set(e.key, { label, verb: verbOf(e.kind, e.op), started: now() });
        break;
      }
      case 'progress': {
        const t = running.get(e.key);
        if (t) t.note = e.message;
        break;
      }
      case 'done': {
        const t = running.get(e.key);
        running.delete(e.key);
        const label = names.get(e.key) ?? labelOf(e.label, e.name, e.region);
        permanent(`${o.c.green('✓')} ${label}: ${outcomeWords(e.kind, e.outcome, e.detail)}${e.ms >= 100 ? o.c.dim(`  ${seconds(t ? now() - t.started : e.ms)}`) : ''}`);
        break;
      }
      case 'failed':
        running.delete(e.key);
        permanent(`${o.c.red('✗')} ${names.get(e.key) ?? labelOf(e.label, e.name, e.region)}: ${e.message}`);
        break;
    }
    sync();
  };
}

