/**
 * The deployment records (SSM Parameter Store, `/forticnapp-eks-audit/<id>/…`, src/state/record.ts) as the
 * teardown, crash and legacy suites check them: what is left after a teardown, and a way to lose them (for
 * `teardown --discover`). Fixture requests: never faulted or counted by the proxy.
 */
import { DeleteParametersCommand, paginateGetParametersByPath, SSMClient } from '@aws-sdk/client-ssm';
import { markFixture } from '../fakes/fault-proxy.js';
import { fixtureConfig, type World } from './world.js';

const ROOT = '/forticnapp-eks-audit/';

const clients = new WeakMap<World, Map<string, SSMClient>>();
function ssm(world: World, region: string): SSMClient {
  let perWorld = clients.get(world);
  if (!perWorld) clients.set(world, (perWorld = new Map()));
  let c = perWorld.get(region);
  if (!c) perWorld.set(region, (c = markFixture(new SSMClient(fixtureConfig(world, region)))));
  return c;
}

/** Every record parameter in these regions, as `<region>:<name>`, sorted. */
export async function recordParameters(world: World, regions: string[]): Promise<string[]> {
  const out: string[] = [];
  await Promise.all(
    regions.map(async (region) => {
      for await (const page of paginateGetParametersByPath({ client: ssm(world, region) }, { Path: ROOT, Recursive: true })) {
        for (const p of page.Parameters ?? []) out.push(`${region}:${p.Name}`);
      }
    }),
  );
  return out.sort();
}

/** The main record parameter of a deployment in a region, parsed, or undefined. */
export async function readRecordParameter(world: World, region: string, deploymentId: string): Promise<Record<string, unknown> | undefined> {
  for await (const page of paginateGetParametersByPath({ client: ssm(world, region) }, { Path: `${ROOT}${deploymentId}/`, Recursive: true })) {
    for (const p of page.Parameters ?? []) if (p.Name === `${ROOT}${deploymentId}/deployment` && p.Value) return JSON.parse(p.Value) as Record<string, unknown>;
  }
  return undefined;
}

/** Every cluster's `auditBefore` in a deployment's record (its `clusters/<region>` parameters), as `<region>/<cluster>`. */
export async function recordedAuditBefore(world: World, region: string, deploymentId: string): Promise<Record<string, boolean | null>> {
  const out: Record<string, boolean | null> = {};
  for await (const page of paginateGetParametersByPath({ client: ssm(world, region) }, { Path: `${ROOT}${deploymentId}/clusters/`, Recursive: true })) {
    for (const p of page.Parameters ?? []) {
      const where = (p.Name ?? '').split('/').pop() as string;
      for (const [cluster, c] of Object.entries(JSON.parse(p.Value ?? '{}') as Record<string, { auditBefore: boolean | null }>)) out[`${where}/${cluster}`] = c.auditBefore;
    }
  }
  return out;
}

/** Deletes every record parameter in these regions (a record lost, or deleted by hand); returns how many. */
export async function deleteRecordParameters(world: World, regions: string[]): Promise<number> {
  let n = 0;
  for (const region of regions) {
    const names = (await recordParameters(world, [region])).map((x) => x.slice(region.length + 1));
    for (let i = 0; i < names.length; i += 10) {
      await ssm(world, region).send(new DeleteParametersCommand({ Names: names.slice(i, i + 10) }));
      n += names.slice(i, i + 10).length;
    }
  }
  return n;
}
