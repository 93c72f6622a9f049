/**
 * Global setup of the e2e project: the moto servers its files share (see `startMotoPool` in
 * test/fakes/moto.ts). Three: one for each of the two workers, and a second for the crash sweep's pool.
 * Without moto nothing is started; each file then skips, or fails in CI, as it would alone.
 */
import { motoAvailable, startMotoPool } from '../fakes/moto.js';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (!motoAvailable()) return undefined;
  return startMotoPool(3);
}
