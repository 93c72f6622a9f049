/**
 * A lock file per deployment so two runs never work on one deployment at once. It holds the owner's PID;
 * a lock whose process is gone is taken over.
 */
import { openSync, writeSync, closeSync, readFileSync, unlinkSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import { deploymentDir, ensureDir } from './journal.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Lock {
  path: string;
  /** true when a lock left by a process that no longer runs was taken over. */
  tookOver: boolean;
  release(): void;
}

export function acquireLock(stateDir: string, deploymentId: string): Lock {
  const dir = deploymentDir(stateDir, deploymentId);
  ensureDir(dir);
  const path = join(dir, 'lock');
  let tookOver = false;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, JSON.stringify({ pid: process.pid, at: new Date().toISOString() }));
      fsyncSync(fd);
      closeSync(fd);
      let released = false;
      return {
        path,
        tookOver,
        release() {
          if (released) return;
          released = true;
          try {
            unlinkSync(path);
          } catch {
            // Already gone: nothing to release.
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let pid = NaN;
      try {
        pid = Number((JSON.parse(readFileSync(path, 'utf8')) as { pid?: number }).pid);
      } catch {
        // Unreadable lock: the writer died mid-write; treat as stale.
      }
      if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) {
        throw new AppError(
          'DeploymentLocked',
          `Deployment ${deploymentId} is in use by another run (PID ${pid}). Wait for it to finish; if that process is stuck, stop it first.`,
          { exitCode: 2 },
        );
      }
      try {
        unlinkSync(path);
      } catch {
        // Someone else removed it first; try again.
      }
      tookOver = true;
    }
  }
  throw new AppError('DeploymentLocked', `Could not lock deployment ${deploymentId} (${path}); try again.`, { exitCode: 2 });
}
