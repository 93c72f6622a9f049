/**
 * Global setup of the e2e project: the moto servers its files share (see `startMotoPool` in
 * test/fakes/moto.ts): one for each worker, and one more for the crash sweep's second world.
 * Without moto nothing is started; each file then skips, or fails in CI, as it would alone.
 */
import type { TestProject } from 'vitest/node';
import { motoAvailable, startMotoPool } from '../fakes/moto.js';

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (!motoAvailable()) return undefined;
  const workers = Number(project.globalConfig.maxWorkers) || 2;
  return startMotoPool(workers + 1);
}
