/**
 * Finding deployments by what they left in AWS, for when even the record is gone (`list --discover`,
 * `teardown --discover`): our tags (the Resource Groups Tagging API finds the tagged stream, bucket, topic
 * and key per region; IAM roles are not in it, on AWS either, so roles of our name shape are read through
 * IAM) and our filter names on the clusters' log groups. Read-only.
 */
import { paginateDescribeLogGroups } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { ListRoleTagsCommand, paginateListRoles } from '@aws-sdk/client-iam';
import { paginateGetResources } from '@aws-sdk/client-resource-groups-tagging-api';
import pMap from 'p-map';
import type { AwsClients } from '../aws/clients.js';
import { iamNeeds, type IamNeed } from '../aws/iam.js';
import { DescribeSubscriptionFiltersCommand } from '@aws-sdk/client-cloudwatch-logs';
import { isNotFound } from '../aws/errors.js';
import { tagMap, TAG_KEYS } from '../aws/tags.js';
import { MANAGED_BY } from '../config/naming.js';

export const DISCOVERY_IAM: IamNeed[] = iamNeeds('any', `
  GetResourcesCommand                 tag:GetResources                                | --discover: resources by our tags
  ListRolesCommand                    iam:ListRoles                                   | a first setup: an earlier version's deployment (by its roles); --discover (IAM is not in the tagging API)
  ListRoleTagsCommand                 iam:ListRoleTags @role                          | which deployment a role of ours belongs to
  DescribeLogGroupsCommand            logs:DescribeLogGroups @any-log-group           | --discover: the clusters’ log groups
  DescribeSubscriptionFiltersCommand  logs:DescribeSubscriptionFilters @eks-log-group | --discover: our filters on them
  DescribeKeyCommand                  kms:DescribeKey @kms-key                        | --discover: a tagged key pending deletion is a torn-down deployment
`);

const KIND_OF_SERVICE: Record<string, string> = { firehose: 'firehose-stream', s3: 's3-bucket', sns: 'sns-topic', kms: 'kms-key', iam: 'iam-role', ssm: 'deployment-record' };

/** Role names setup makes: `<prefix>-ca|fh|cw-<8 hex>` (src/config/naming.ts). */
const ROLE_NAME = /^(.+)-(?:ca|fh|cw)-([0-9a-f]{8})$/;

export interface DiscoveredResource {
  kind: string;
  arn: string;
  /** Region, or 'global' for IAM. */
  region: string;
}

export interface DiscoveredDeployment {
  deploymentId: string;
  /** From a role's name, when one was found. */
  prefix?: string;
  /** Where its stream or topic is. */
  homeRegion?: string;
  regions: string[];
  resources: DiscoveredResource[];
}

/**
 * Every deployment with a resource tagged `forticnapp-eks-audit:managed-by` in the given regions, or an IAM
 * role of ours. Keys pending deletion do not count (a torn-down deployment's key waits out its 7 days).
 */
export async function discoverByTags(aws: AwsClients, regions: string[]): Promise<DiscoveredDeployment[]> {
  const found = new Map<string, DiscoveredResource & { deploymentId: string }>();
  const buckets = new Map<string, string>();
  await pMap(
    regions,
    async (region) => {
      const client = await aws.tagging(region);
      for await (const page of paginateGetResources({ client }, { TagFilters: [{ Key: TAG_KEYS.managedBy, Values: [MANAGED_BY] }] })) {
        for (const r of page.ResourceTagMappingList ?? []) {
          const id = tagMap(r.Tags)[TAG_KEYS.deployment];
          if (!r.ResourceARN || !id) continue;
          const [, , service = '', arnRegion = ''] = r.ResourceARN.split(':');
          if (service === 'kms') {
            const m = await (await aws.kms(arnRegion))
              .send(new DescribeKeyCommand({ KeyId: r.ResourceARN }))
              .then((o) => o.KeyMetadata)
              .catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e)));
            if (!m || m.KeyState === 'PendingDeletion') continue;
          }
          // A bucket's ARN carries no region, and some endpoints list buckets in every region's answer: placed
          // below, in the deployment's home region.
          if (!arnRegion) buckets.set(r.ResourceARN, id);
          else found.set(r.ResourceARN, { deploymentId: id, arn: r.ResourceARN, kind: KIND_OF_SERVICE[service] ?? service, region: arnRegion });
        }
      }
    },
    { concurrency: 4 },
  );

  const prefixes = new Map<string, string>();
  for (const role of await rolesOfOurs(aws)) {
    found.set(role.arn, { deploymentId: role.deploymentId, arn: role.arn, kind: 'iam-role', region: 'global' });
    if (role.prefix) prefixes.set(role.deploymentId, role.prefix);
  }

  const byId = new Map<string, DiscoveredDeployment>();
  for (const { deploymentId, ...res } of found.values()) {
    const d = byId.get(deploymentId) ?? { deploymentId, regions: [], resources: [] };
    d.resources.push(res);
    if ((res.kind === 'sns-topic' || res.kind === 'firehose-stream') && !d.homeRegion) d.homeRegion = res.region;
    byId.set(deploymentId, d);
  }
  for (const [arn, deploymentId] of buckets) {
    const d = byId.get(deploymentId) ?? { deploymentId, regions: [], resources: [] };
    d.resources.push({ kind: 's3-bucket', arn, region: d.homeRegion ?? regions[0] ?? 'us-east-1' });
    byId.set(deploymentId, d);
  }
  return [...byId.values()]
    .map((d) => {
      const prefix = prefixes.get(d.deploymentId);
      return {
        ...d,
        ...(prefix ? { prefix } : {}),
        regions: [...new Set(d.resources.map((r) => r.region))].sort(),
        resources: d.resources.sort((x, y) => x.kind.localeCompare(y.kind) || x.arn.localeCompare(y.arn)),
      };
    })
    .sort((x, y) => x.deploymentId.localeCompare(y.deploymentId));
}

/**
 * The IAM roles of ours in the account: named as setup names them (`<prefix>-ca|fh|cw-<id>`) and tagged as
 * ours with that deployment id (IAM is not in the tagging API, on AWS either). `namePrefix` narrows the
 * candidates to one prefix before their tags are read.
 * @returns each role with its deployment id and the prefix its name carries.
 */
export async function rolesOfOurs(aws: AwsClients, namePrefix?: string): Promise<{ name: string; arn: string; deploymentId: string; prefix: string }[]> {
  const iam = await aws.iam();
  const candidates: { name: string; arn: string; prefix: string; id: string }[] = [];
  for await (const page of paginateListRoles({ client: iam, pageSize: 1000 }, {})) {
    for (const r of page.Roles ?? []) {
      const m = r.RoleName ? ROLE_NAME.exec(r.RoleName) : null;
      if (m && r.Arn && (namePrefix === undefined || m[1] === namePrefix)) candidates.push({ name: r.RoleName as string, arn: r.Arn, prefix: m[1] as string, id: m[2] as string });
    }
  }
  const out: { name: string; arn: string; deploymentId: string; prefix: string }[] = [];
  await pMap(
    candidates,
    async (role) => {
      const tags = tagMap((await iam.send(new ListRoleTagsCommand({ RoleName: role.name }))).Tags);
      const id = tags[TAG_KEYS.deployment];
      if (!id || tags[TAG_KEYS.managedBy] !== MANAGED_BY) return;
      out.push({ name: role.name, arn: role.arn, deploymentId: id, prefix: id === role.id ? role.prefix : '' });
    },
    { concurrency: 4 },
  );
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Clusters that carry a filter of this deployment (`<prefix>-<cluster>-eks-cw-<id>`) in the given regions. */
export async function clustersWithFilters(aws: AwsClients, regions: string[], prefix: string, deploymentId: string): Promise<{ region: string; cluster: string }[]> {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const shape = new RegExp(`^${escape(prefix)}-(.+)-eks-cw-${deploymentId}$`);
  const out: { region: string; cluster: string }[] = [];
  await pMap(
    regions,
    async (region) => {
      const logs = await aws.logs(region);
      for await (const page of paginateDescribeLogGroups({ client: logs }, { logGroupNamePrefix: '/aws/eks/' })) {
        for (const g of page.logGroups ?? []) {
          if (!g.logGroupName) continue;
          const filters = (await logs.send(new DescribeSubscriptionFiltersCommand({ logGroupName: g.logGroupName }))).subscriptionFilters ?? [];
          for (const f of filters) {
            const m = f.filterName ? shape.exec(f.filterName) : null;
            if (m) out.push({ region, cluster: m[1] as string });
          }
        }
      }
    },
    { concurrency: 4 },
  );
  return out;
}
