/** The per-deployment lock: a live owner stops a second run with a clear message; a dead owner's lock is taken over. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { acquireLock } from '../../../src/state/lock.js';

let stateDir: string;
let child: ChildProcess | undefined;
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'fea-lock-'));
});
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((r) => child?.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }
  child = undefined;
  rmSync(stateDir, { recursive: true, force: true });
});

const lockFile = (id = 'aabbccdd') => join(stateDir, 'deployments', id, 'lock');
function writeLock(content: string, id = 'aabbccdd'): void {
  mkdirSync(join(stateDir, 'deployments', id), { recursive: true });
  writeFileSync(lockFile(id), content);
}

describe('acquireLock', () => {
  it('writes our PID, and release removes the file (twice is harmless)', () => {
    const lock = acquireLock(stateDir, 'aabbccdd');
    expect(lock.tookOver).toBe(false);
    expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
    expect(existsSync(lockFile())).toBe(false);
    lock.release();
    // Locks are per deployment.
    const a = acquireLock(stateDir, 'aaaaaaaa');
    const b = acquireLock(stateDir, 'bbbbbbbb');
    a.release();
    b.release();
  });

  it('stops when another live process holds it, naming the deployment and that PID (exit 2)', async () => {
    child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    await new Promise((r) => child?.once('spawn', r));
    writeLock(JSON.stringify({ pid: child.pid, at: new Date().toISOString() }));
    let err: unknown;
    try {
      acquireLock(stateDir, 'aabbccdd');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('DeploymentLocked');
    expect((err as AppError).exitCode).toBe(2);
    expect((err as AppError).message).toBe(`Deployment aabbccdd is in use by another run (PID ${child.pid}). Wait for it to finish; if that process is stuck, stop it first.`);
    // The lock is left to its owner.
    expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toMatchObject({ pid: child.pid });
  });

  it('takes over a lock whose process is gone', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeLock(JSON.stringify({ pid: Number(dead.stdout), at: '2026-01-01T00:00:00Z' }));
    const lock = acquireLock(stateDir, 'aabbccdd');
    expect(lock.tookOver).toBe(true);
    expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it('takes over a lock file its writer left unreadable (killed mid-write)', () => {
    writeLock('{"pi');
    const lock = acquireLock(stateDir, 'aabbccdd');
    expect(lock.tookOver).toBe(true);
    lock.release();
  });
});
