/**
 * What a deployment left in AWS and at the fake FortiCNAPP, read straight from moto (fixture requests, never
 * faulted or counted by the proxy). Used by the teardown, crash and fault suites to prove "nothing left" and
 * "exactly one of each".
 */
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { CloudWatchLogsClient, DescribeLogGroupsCommand, DescribeSubscriptionFiltersCommand } from '@aws-sdk/client-cloudwatch-logs';
import { FirehoseClient, ListDeliveryStreamsCommand } from '@aws-sdk/client-firehose';
import { IAMClient, ListRolesCommand, ListRoleTagsCommand } from '@aws-sdk/client-iam';
import { DescribeKeyCommand, KMSClient, ListAliasesCommand, ListKeysCommand, ListResourceTagsCommand } from '@aws-sdk/client-kms';
import { GetBucketNotificationConfigurationCommand, GetBucketTaggingCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { ListSubscriptionsCommand, ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { markFixture, type FaultProxy } from '../fakes/fault-proxy.js';
import { asAccount } from '../fakes/moto-accounts.js';
import { fixtureConfig, type World } from './world.js';

export const TAG_DEPLOYMENT = 'forticnapp-eks-audit:deployment';
export const TAG_MANAGED_BY = 'forticnapp-eks-audit:managed-by';

/** Everything of ours found in AWS and FortiCNAPP, one string per resource. */
export interface Inventory {
  /** IAM roles named with the prefix, or carrying our managed-by tag. */
  roles: string[];
  /** Buckets named with the prefix or carrying our tag. */
  buckets: string[];
  /** `<region>:<topic name>` for topics named with the prefix. */
  topics: string[];
  /** `<region>:<stream name>` for Firehose streams named with the prefix. */
  streams: string[];
  /** `<region>:<key id>` for keys not pending deletion that carry our managed-by tag. */
  kmsKeys: string[];
  /** `<region>:<alias>` for aliases named with the prefix. */
  kmsAliases: string[];
  /** `<region>:<log group>:<filter>` for filters named with the prefix or delivering to a stream named with it. */
  filters: string[];
  /** `<bucket>:<Id>` of topic notifications pointing at a topic named with the prefix, on any bucket. */
  notifications: string[];
  /** `<region>:<subscription arn>` of subscriptions to topics named with the prefix. */
  subscriptions: string[];
  /** intgGuid of every integration at the fake FortiCNAPP. */
  integrations: string[];
  /** ARNs the Resource Groups Tagging API finds with our managed-by tag (KMS keys pending deletion left out). */
  tagged: string[];
}

/** What a test needs to know about the world it inspects. */
export interface Scope {
  regions: string[];
  clusters: { region: string; name: string }[];
  prefix?: string;
  /** Only this deployment's keys, tagged resources and integrations (default: any of ours). */
  deploymentId?: string;
  /**
   * The AWS account to look in (default: the management account, 123456789012). With it, only integrations
   * whose role is in that account count.
   */
  account?: string;
}

const made = (world: World, region: string, account: string | undefined) => {
  const fx = <T extends Parameters<typeof markFixture>[0]>(client: T): T => markFixture(account ? asAccount(client, account) : client);
  return {
    logs: fx(new CloudWatchLogsClient(fixtureConfig(world, region))),
    firehose: fx(new FirehoseClient(fixtureConfig(world, region))),
    kms: fx(new KMSClient(fixtureConfig(world, region))),
    sns: fx(new SNSClient(fixtureConfig(world, region))),
    s3: fx(new S3Client(fixtureConfig(world, region))),
    tagging: fx(new ResourceGroupsTaggingAPIClient(fixtureConfig(world, region))),
    eks: fx(new EKSClient(fixtureConfig(world, region))),
    iam: fx(new IAMClient(fixtureConfig(world, 'us-east-1'))),
  };
};

// One set of clients per world, account and region: the suites take an inventory after every case.
const cache = new WeakMap<World, Map<string, ReturnType<typeof made>>>();
function clients(world: World, region: string, account?: string): ReturnType<typeof made> {
  let perWorld = cache.get(world);
  if (!perWorld) cache.set(world, (perWorld = new Map()));
  const key = `${account ?? ''}/${region}`;
  let c = perWorld.get(key);
  if (!c) perWorld.set(key, (c = made(world, region, account)));
  return c;
}

/** Reads every place our resources could be. `withTagging` adds the (slow on first call) tagging API sweep. */
export async function inventory(world: World, scope: Scope, opts: { withTagging?: boolean } = {}): Promise<Inventory> {
  const prefix = scope.prefix ?? 'lw-eks-al';
  const inv: Inventory = {
    roles: [], buckets: [], topics: [], streams: [], kmsKeys: [], kmsAliases: [], filters: [], notifications: [], subscriptions: [], integrations: [], tagged: [],
  };
  /** Carries our managed-by tag (and, with a deployment in scope, that deployment's tag). */
  const taggedOurs = (tags: { Key?: string; Value?: string }[] | undefined) =>
    (tags ?? []).some((t) => t.Key === TAG_MANAGED_BY) &&
    (!scope.deploymentId || (tags ?? []).some((t) => t.Key === TAG_DEPLOYMENT && t.Value === scope.deploymentId));
  const iam = clients(world, 'us-east-1', scope.account).iam;
  const s3 = clients(world, scope.regions[0] ?? 'us-east-1', scope.account).s3;
  // Every service and region at once: these are reads, and the crash suite runs this after every case.
  const roles = async () => {
    let Marker: string | undefined;
    do {
      const page = await iam.send(new ListRolesCommand({ Marker }));
      await Promise.all(
        (page.Roles ?? []).map(async (r) => {
          const name = r.RoleName ?? '';
          if (name.startsWith(prefix)) return inv.roles.push(name);
          const tags = await iam.send(new ListRoleTagsCommand({ RoleName: name }));
          if (taggedOurs(tags.Tags)) inv.roles.push(name);
        }),
      );
      Marker = page.IsTruncated ? page.Marker : undefined;
    } while (Marker);
  };
  const buckets = async () => {
    await Promise.all(
      ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map(async (b) => {
        const name = b.Name ?? '';
        let ours = name.startsWith(prefix);
        if (!ours) {
          const tags = await s3.send(new GetBucketTaggingCommand({ Bucket: name })).catch(() => ({ TagSet: [] }));
          ours = taggedOurs(tags.TagSet);
        }
        if (ours) inv.buckets.push(name);
        // Any bucket (ours or not) may hold a notification to our topic.
        const n = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: name })).catch(() => undefined);
        for (const t of n?.TopicConfigurations ?? []) {
          if ((t.TopicArn ?? '').split(':').pop()?.startsWith(prefix)) inv.notifications.push(`${name}:${t.Id}`);
        }
      }),
    );
  };
  const region = async (region: string) => {
    const c = clients(world, region, scope.account);
    const topics = async () => {
      for (const t of (await c.sns.send(new ListTopicsCommand({}))).Topics ?? []) {
        const name = (t.TopicArn ?? '').split(':').pop() ?? '';
        if (name.startsWith(prefix)) inv.topics.push(`${region}:${name}`);
      }
    };
    const subscriptions = async () => {
      for (const s of (await c.sns.send(new ListSubscriptionsCommand({}))).Subscriptions ?? []) {
        if ((s.TopicArn ?? '').split(':').pop()?.startsWith(prefix)) inv.subscriptions.push(`${region}:${s.SubscriptionArn}`);
      }
    };
    const streams = async () => {
      for (const name of (await c.firehose.send(new ListDeliveryStreamsCommand({}))).DeliveryStreamNames ?? []) {
        if (name.startsWith(prefix)) inv.streams.push(`${region}:${name}`);
      }
    };
    const aliases = async () => {
      for (const a of (await c.kms.send(new ListAliasesCommand({}))).Aliases ?? []) {
        if ((a.AliasName ?? '').startsWith(`alias/${prefix}`)) inv.kmsAliases.push(`${region}:${a.AliasName}`);
      }
    };
    const keys = async () => {
      await Promise.all(
        ((await c.kms.send(new ListKeysCommand({}))).Keys ?? []).map(async (k) => {
          const meta = (await c.kms.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata;
          if (meta?.KeyState === 'PendingDeletion') return;
          const tags = await c.kms.send(new ListResourceTagsCommand({ KeyId: k.KeyId }));
          const ours = (tags.Tags ?? []).some((t) => t.TagKey === TAG_MANAGED_BY);
          const deployment = (tags.Tags ?? []).find((t) => t.TagKey === TAG_DEPLOYMENT)?.TagValue;
          if (ours && (!scope.deploymentId || deployment === scope.deploymentId)) inv.kmsKeys.push(`${region}:${k.KeyId}`);
        }),
      );
    };
    const filters = async () => {
      let nextToken: string | undefined;
      do {
        const page = await c.logs.send(new DescribeLogGroupsCommand({ nextToken }));
        await Promise.all(
          (page.logGroups ?? []).map(async (g) => {
            const f = await c.logs.send(new DescribeSubscriptionFiltersCommand({ logGroupName: g.logGroupName }));
            for (const x of f.subscriptionFilters ?? []) {
              const toOurStream = (x.destinationArn ?? '').split('/').pop()?.startsWith(prefix);
              if ((x.filterName ?? '').startsWith(prefix) || toOurStream) inv.filters.push(`${region}:${g.logGroupName}:${x.filterName}`);
            }
          }),
        );
        nextToken = page.nextToken;
      } while (nextToken);
    };
    const tagged = async () => {
      if (!opts.withTagging) return;
      const out = await c.tagging.send(new GetResourcesCommand({ TagFilters: [{ Key: TAG_MANAGED_BY }] }));
      for (const r of out.ResourceTagMappingList ?? []) {
        const arn = r.ResourceARN ?? '';
        if (scope.deploymentId && !(r.Tags ?? []).some((t) => t.Key === TAG_DEPLOYMENT && t.Value === scope.deploymentId)) continue;
        if (arn.startsWith('arn:aws:kms:')) {
          const meta = (await c.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata;
          if (meta?.KeyState === 'PendingDeletion') continue;
        }
        // S3 buckets appear in every region's answer (moto.md §3.8): count each once.
        if (!inv.tagged.includes(arn)) inv.tagged.push(arn);
      }
    };
    await Promise.all([topics(), subscriptions(), streams(), aliases(), keys(), filters(), tagged()]);
  };
  await Promise.all([roles(), buckets(), ...scope.regions.map(region)]);
  inv.integrations = [...world.lw.integrations.values()]
    .filter((i) => !scope.deploymentId || `${i.data.crossAccountCredentials.roleArn} ${i.data.snsArn}`.includes(scope.deploymentId))
    .filter((i) => !scope.account || i.data.crossAccountCredentials.roleArn.split(':')[4] === scope.account)
    .map((i) => i.intgGuid);
  // Sorted, so that two inventories compare equal whatever order the answers came in.
  for (const list of Object.values(inv) as string[][]) list.sort();
  return inv;
}

/** Every resource of ours that an inventory holds, as one flat list (empty when nothing is left). */
export function leftovers(inv: Inventory): string[] {
  return (Object.entries(inv) as [keyof Inventory, string[]][]).flatMap(([kind, list]) => list.map((x) => `${kind} ${x}`));
}

/** How many of each kind there are. */
export function counts(inv: Inventory): Record<keyof Inventory, number> {
  return Object.fromEntries(Object.entries(inv).map(([k, v]) => [k, (v as string[]).length])) as Record<keyof Inventory, number>;
}

/** Each cluster's enabled log types, sorted: `{ 'eu-central-1/prod': ['api'] }`. */
export async function clusterLogging(world: World, scope: Scope): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const { region, name } of scope.clusters) {
    const c = await clients(world, region, scope.account).eks.send(new DescribeClusterCommand({ name }));
    const types = (c.cluster?.logging?.clusterLogging ?? []).filter((l) => l.enabled).flatMap((l) => l.types ?? []);
    out[`${region}/${name}`] = [...new Set(types)].sort();
  }
  return out;
}

/**
 * Waits until moto has answered every request the proxy forwarded (held requests never are). After a CLI
 * was killed, that is when its last calls have taken effect.
 *
 * Not `FaultProxy.idle()`: when the client dies while its answer is being relayed, the proxy's upstream
 * stream stalls (`pipe` stops reading once its destination closes), never ends, and idle() waits forever;
 * the counter it waits on stays up for the rest of the world's life. Moto has done the work once the proxy
 * has seen the answer's status line, which is what this checks.
 */
export async function settled(proxy: FaultProxy, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = proxy.calls.filter((c) => c.status === 0 && c.injected !== 'hold');
    if (open.length === 0) return;
    if (Date.now() > deadline) throw new Error(`moto did not answer within ${timeoutMs / 1000} s: ${open.map((c) => `${c.service} ${c.action}`).join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
