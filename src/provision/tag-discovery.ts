/**
 * `list --discover`: deployments found in AWS by their tags, for when the journal is elsewhere (another
 * machine, a lost CloudShell home). Read-only. The Resource Groups Tagging API finds the tagged stream,
 * bucket, topic and key per region; IAM roles are not in it (not on AWS either), so roles whose names
 * have our shape are looked up by their tags through IAM.
 */
import { ListRoleTagsCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import type { AwsClients } from '../aws/clients.js';
import { MANAGED_BY, TAG_DEPLOYMENT, TAG_MANAGED_BY } from '../config/naming.js';
import { mapLimit } from './engine.js';

/** One tagged resource of a deployment. */
export interface TaggedResource {
  kind: string;
  arn: string;
  /** Region, or 'global' for IAM. */
  region: string;
}

export interface DiscoveredDeployment {
  deploymentId: string;
  /** Regions (and 'global') where something of it was found. */
  regions: string[];
  resources: TaggedResource[];
}

const KIND_OF_SERVICE: Record<string, string> = {
  firehose: 'firehose-stream',
  s3: 's3-bucket',
  sns: 'sns-topic',
  kms: 'kms-key',
  logs: 'log-group',
  sqs: 'sqs-queue',
  iam: 'iam-role',
};

/** Role names setup makes: `<prefix>-ca|fh|cw-<8 hex>` (src/config/naming.ts). */
const ROLE_NAME = /-(?:ca|fh|cw)-[0-9a-f]{8}$/;

/** Every deployment with a resource tagged `forticnapp-eks-audit:managed-by` in the given regions (and IAM). */
export async function discoverByTags(aws: AwsClients, regions: string[]): Promise<DiscoveredDeployment[]> {
  const found = new Map<string, TaggedResource & { deploymentId: string; seenIn?: number }>();
  await mapLimit(regions, 4, async (region) => {
    const order = regions.indexOf(region);
    const tagging = await aws.tagging(region);
    let PaginationToken: string | undefined;
    do {
      const page = await tagging.send(new GetResourcesCommand({ TagFilters: [{ Key: TAG_MANAGED_BY, Values: [MANAGED_BY] }], PaginationToken }));
      for (const r of page.ResourceTagMappingList ?? []) {
        const id = r.Tags?.find((t) => t.Key === TAG_DEPLOYMENT)?.Value;
        if (!r.ResourceARN || !id) continue;
        const [, , service = '', arnRegion = ''] = r.ResourceARN.split(':');
        if (arnRegion) {
          found.set(r.ResourceARN, { deploymentId: id, arn: r.ResourceARN, kind: KIND_OF_SERVICE[service] ?? service, region: arnRegion });
          continue;
        }
        // A bucket ARN carries no region, and some endpoints list buckets in every region's answer: placed
        // below, in the deployment's home region; the first region asked is only the fallback.
        const seen = found.get(r.ResourceARN);
        if (!seen || (seen.seenIn ?? 0) > order) found.set(r.ResourceARN, { deploymentId: id, arn: r.ResourceARN, kind: KIND_OF_SERVICE[service] ?? service, region, seenIn: order });
      }
      PaginationToken = page.PaginationToken || undefined;
    } while (PaginationToken);
  });

  const iam = await aws.iam();
  const candidates: { name: string; arn: string }[] = [];
  let Marker: string | undefined;
  do {
    const page = await iam.send(new ListRolesCommand({ Marker }));
    for (const r of page.Roles ?? []) if (r.RoleName && r.Arn && ROLE_NAME.test(r.RoleName)) candidates.push({ name: r.RoleName, arn: r.Arn });
    Marker = page.IsTruncated ? page.Marker : undefined;
  } while (Marker);
  await mapLimit(candidates, 4, async (role) => {
    const tags = (await iam.send(new ListRoleTagsCommand({ RoleName: role.name }))).Tags ?? [];
    const id = tags.find((t) => t.Key === TAG_DEPLOYMENT)?.Value;
    if (id && tags.some((t) => t.Key === TAG_MANAGED_BY && t.Value === MANAGED_BY)) {
      found.set(role.arn, { deploymentId: id, arn: role.arn, kind: 'iam-role', region: 'global' });
    }
  });

  // The bucket lives where the deployment's topic and stream live (S3 notifies only a topic of its own region).
  const homeOf = new Map<string, string>();
  for (const r of found.values()) if (r.kind === 'sns-topic' || r.kind === 'firehose-stream') homeOf.set(r.deploymentId, r.region);
  const byId = new Map<string, DiscoveredDeployment>();
  for (const { deploymentId, seenIn, ...res } of found.values()) {
    if (seenIn !== undefined) res.region = homeOf.get(deploymentId) ?? res.region;
    const d = byId.get(deploymentId) ?? { deploymentId, regions: [], resources: [] };
    d.resources.push(res);
    if (!d.regions.includes(res.region)) d.regions.push(res.region);
    byId.set(deploymentId, d);
  }
  return [...byId.values()]
    .map((d) => ({ ...d, regions: d.regions.sort(), resources: d.resources.sort((x, y) => x.kind.localeCompare(y.kind) || x.arn.localeCompare(y.arn)) }))
    .sort((x, y) => x.deploymentId.localeCompare(y.deploymentId));
}
