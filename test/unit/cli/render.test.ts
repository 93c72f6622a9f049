/** Progress rendering: the live task list on a terminal, plain timestamped lines elsewhere. */
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { colorLevel, colors, liveProgress, makeOutput, plainProgress, progressPrinter, type Output } from '../../../src/cli/render.js';

/** A stream that records writes and replays them on a tiny virtual terminal (cursor up, erase down). */
class Screen extends Writable {
  raw = '';
  lines: string[] = [''];
  row = 0;
  constructor(readonly columns = 60, readonly rows = 10) {
    super();
  }
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    const text = chunk.toString();
    this.raw += text;
    for (const m of text.matchAll(/\r|\x1b\[(\d*)A|\x1b\[J|\n|[^\r\n\x1b]+/g)) {
      const t = m[0];
      if (t === '\r') continue;
      if (t === '\n') {
        this.row++;
        if (this.lines.length <= this.row) this.lines.push('');
      } else if (t === '\x1b[J') this.lines.length = this.row + 1, (this.lines[this.row] = '');
      else if (t.startsWith('\x1b[')) this.row -= Number(m[1] || 1);
      else this.lines[this.row] = (this.lines[this.row] ?? '') + t;
    }
    cb();
  }
  get screen(): string[] {
    return this.lines.filter((l, i) => l !== '' || i < this.row);
  }
}

function output(err: Writable, live: boolean): Output {
  return { json: false, color: false, live, out: new Screen(), err, c: colors(false) } as unknown as Output;
}

describe('liveProgress', () => {
  it('shows running tasks with step, region and elapsed time, and turns finished ones into permanent lines', () => {
    const screen = new Screen(100);
    let now = 1_000;
    const emit = liveProgress(output(screen, true), { now: () => now, intervalMs: 60_000 });
    emit({ type: 'phase', phase: 'apply' });
    emit({ type: 'start', key: 'fh', kind: 'firehose-stream', label: 'Firehose stream', region: 'eu-central-1', name: 'lw-eks-al1a2b3c4d', op: 'create' });
    emit({ type: 'start', key: 'eks', kind: 'eks-audit-logging', label: 'EKS audit logging', region: 'us-east-1', name: 'edge', op: 'create' });
    now += 12_300;
    emit({ type: 'progress', key: 'fh', message: 'waiting for ACTIVE' });
    expect(screen.screen).toEqual([
      '⠋ creating Firehose stream lw-eks-al1a2b3c4d (eu-central-1)  12.3 s  waiting for ACTIVE',
      '⠋ enabling EKS audit logging edge (us-east-1)  12.3 s',
    ]);
    now += 700;
    emit({ type: 'done', key: 'eks', kind: 'eks-audit-logging', label: 'EKS audit logging', region: 'us-east-1', name: 'edge', outcome: 'changed', ms: 13_000 });
    expect(screen.screen[0]).toBe('✓ EKS audit logging edge (us-east-1): audit logging turned on  13.0 s');
    expect(screen.screen[1]).toMatch(/^⠋ creating Firehose stream lw-eks-al1a2b3c4d \(eu-central-1\)/);
    emit({ type: 'failed', key: 'fh', kind: 'firehose-stream', label: 'Firehose stream', region: 'eu-central-1', name: 'lw-eks-al1a2b3c4d', message: 'boom' });
    expect(screen.screen).toEqual(['✓ EKS audit logging edge (us-east-1): audit logging turned on  13.0 s', '✗ Firehose stream lw-eks-al1a2b3c4d (eu-central-1): boom']);
  });

  it('never draws more running tasks than fit on the screen, nor lines wider than it', () => {
    const screen = new Screen(40, 6);
    const emit = liveProgress(output(screen, true), { now: () => 0, intervalMs: 60_000 });
    for (let i = 0; i < 20; i++) emit({ type: 'start', key: `k${i}`, kind: 'subscription-filter', label: 'subscription filter', region: 'us-east-1', name: `filter-number-${i}-with-a-long-name`, op: 'create' });
    expect(screen.screen).toHaveLength(4);
    expect(screen.screen[3]).toBe('  … and 17 more running');
    expect(screen.screen.every((l) => l.length <= 39)).toBe(true);
  });
});

describe('colors', () => {
  it('wraps text in basic ANSI codes when on, and leaves it alone when off', () => {
    expect(colors(true).red('x')).toBe('\x1b[31mx\x1b[39m');
    expect(colors(true).dim('x')).toBe('\x1b[2mx\x1b[22m');
    expect(colors(false).green('x')).toBe('x');
  });

  it('draws the basic colours the same at every level above none', () => {
    for (const level of [1, 2, 3] as const) expect(colors(level).yellow('x')).toBe('\x1b[33mx\x1b[39m');
    expect(colors(0).bold('x')).toBe('x');
  });
});

describe('colorLevel', () => {
  const terminal = { stdout: true, stderr: true };
  const piped = { stdout: false, stderr: false };

  it('colours a terminal, not a pipe, and not a dumb terminal', () => {
    expect(colorLevel({}, {}, terminal)).toBe(1);
    expect(colorLevel({}, {}, piped)).toBe(0);
    expect(colorLevel({}, {}, { stdout: false, stderr: true })).toBe(0);
    expect(colorLevel({}, { TERM: 'dumb' }, terminal)).toBe(0);
  });

  it('with --json, only stderr has to be a terminal (stdout holds the JSON)', () => {
    expect(colorLevel({ json: true }, {}, { stdout: false, stderr: true })).toBe(1);
    expect(colorLevel({ json: true }, {}, { stdout: true, stderr: false })).toBe(0);
  });

  it('turns colour off for --no-color, NO_COLOR (any non-empty value) and LW_NOCOLOR (on)', () => {
    expect(colorLevel({ color: false }, {}, terminal)).toBe(0);
    expect(colorLevel({ color: false }, { FORCE_COLOR: '3' }, terminal)).toBe(0);
    for (const v of ['1', 'true', '0']) expect(colorLevel({}, { NO_COLOR: v }, terminal), `NO_COLOR=${v}`).toBe(0);
    expect(colorLevel({}, { NO_COLOR: '' }, terminal)).toBe(1);
    for (const v of ['1', 'true', 'yes', 'TRUE']) expect(colorLevel({}, { LW_NOCOLOR: v }, terminal), `LW_NOCOLOR=${v}`).toBe(0);
    for (const v of ['0', 'false', 'no', 'off', '']) expect(colorLevel({}, { LW_NOCOLOR: v }, terminal), `LW_NOCOLOR=${v}`).toBe(1);
  });

  it('follows FORCE_COLOR as chalk reads it, into a pipe too, over NO_COLOR', () => {
    const cases: [string, number][] = [['0', 0], ['false', 0], ['1', 1], ['true', 1], ['', 1], ['2', 2], ['3', 3], ['7', 3]];
    for (const [v, level] of cases) expect(colorLevel({}, { FORCE_COLOR: v }, piped), `FORCE_COLOR=${v}`).toBe(level);
    expect(colorLevel({}, { FORCE_COLOR: '0' }, terminal)).toBe(0);
    expect(colorLevel({}, { FORCE_COLOR: '1', NO_COLOR: '1' }, piped)).toBe(1);
  });

  it('makeOutput: FORCE_COLOR colours a pipe but never turns on the live task list', () => {
    // The test runner's stdout and stderr are not terminals.
    expect(makeOutput({}, {})).toMatchObject({ color: false, live: false });
    const forced = makeOutput({}, { FORCE_COLOR: '1' });
    expect(forced).toMatchObject({ color: true, live: false });
    expect(forced.c.red('x')).toBe('\x1b[31mx\x1b[39m');
    expect(makeOutput({ color: false }, { FORCE_COLOR: '1' }).c.red('x')).toBe('x');
  });
});

describe('plain progress', () => {
  it('writes one timestamped line per event and no cursor movement', () => {
    const screen = new Screen();
    const emit = plainProgress(output(screen, false));
    emit({ type: 'start', key: 'r', kind: 'iam-role', label: 'IAM role', region: 'global', name: 'lw-eks-al-ca-1a2b3c4d', op: 'create' });
    emit({ type: 'done', key: 'r', kind: 'iam-role', label: 'IAM role', region: 'global', name: 'lw-eks-al-ca-1a2b3c4d', outcome: 'created', ms: 420 });
    expect(screen.raw).not.toMatch(/\x1b/);
    expect(screen.raw.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\] creating IAM role lw-eks-al-ca-1a2b3c4d$/),
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\] ✓ IAM role lw-eks-al-ca-1a2b3c4d: created \(0\.4 s\)$/),
    ]);
  });

  it('is what progressPrinter picks when the output is not live', () => {
    const screen = new Screen();
    progressPrinter(output(screen, false))({ type: 'phase', phase: 'teardown' });
    expect(screen.raw).toMatch(/^\[\d\d:\d\d:\d\d\] Tearing down…\n$/);
  });
});
