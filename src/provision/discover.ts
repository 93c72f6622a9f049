/**
 * `teardown --discover` (DESIGN §4): the journal is gone, so what a deployment made is rebuilt from AWS
 * itself and from FortiCNAPP, then removed in the usual teardown order by the same handlers.
 *
 * Sources, all read-only: IAM roles whose names have our shape and carry our tags (IAM is global, and the
 * CloudWatch role's trust names every cluster region); the Resource Groups Tagging API per region (stream,
 * bucket, topic, key); the deterministic names of src/config/naming.ts (bucket, topic, stream, alias,
 * filters, notification); the FortiCNAPP integration list matched by the cross-account role or the topic.
 *
 * What cannot be rebuilt: the clusters' logging before setup. Without the journal nobody knows where audit
 * logging was off, so it is left as it is and the result says so.
 */
import { GetRoleCommand, GetRolePolicyCommand, ListRolePoliciesCommand, ListRoleTagsCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { GetBucketLocationCommand, GetBucketNotificationConfigurationCommand } from '@aws-sdk/client-s3';
import { GetTopicAttributesCommand } from '@aws-sdk/client-sns';
import { DescribeDeliveryStreamCommand } from '@aws-sdk/client-firehose';
import { existsSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { createAwsClients, type AwsClients } from '../aws/clients.js';
import { httpStatus, isNotFound } from '../aws/errors.js';
import { DEFAULTS } from '../config/inputs.js';
import { makeNames, MANAGED_BY, TAG_DEPLOYMENT, TAG_MANAGED_BY, type Names } from '../config/naming.js';
import { createLaceworkApi, type LaceworkApi } from '../lacework/api.js';
import type { LaceworkCredentials } from '../lacework/credentials.js';
import { Journal, journalPath } from '../journal/journal.js';
import { acquireLock } from '../journal/lock.js';
import type { DoneRecord } from '../journal/records.js';
import { parsePolicy, regionsInCloudwatchTrust } from './policies.js';
import { mapLimit, undoAll, type Emit, type ResourceResult, type UndoItem } from './engine.js';
import { callerAccount, type Environment } from './deploy.js';
import { abortableSleep } from './retry.js';
import type { BaseContext, Ref, ResourceKind } from './step.js';
import { HANDLERS } from './steps/index.js';
import { roleKey, type RoleWhich } from './steps/iam-role.js';
import { bucketOwner } from './steps/s3-bucket.js';
import { listFilters, keyOf as filterKey } from './steps/subscription-filter.js';
import { KEY as INTEGRATION_KEY } from './steps/forticnapp-integration.js';
import { KEY as KMS_KEY } from './steps/kms-key.js';
import { KEY as BUCKET_KEY } from './steps/s3-bucket.js';
import { KEY as TOPIC_KEY } from './steps/sns-topic.js';
import { KEY as NOTIFICATION_KEY } from './steps/s3-bucket-notification.js';
import { KEY as STREAM_KEY } from './steps/firehose-stream.js';

/** What `teardown --discover` was asked for. */
export interface DiscoverRequest extends Environment {
  /** `--deployment`; otherwise the one deployment the tags show. */
  deploymentId?: string;
  /** `--region` (repeatable): searched besides the defaults. */
  regions?: string[];
  /** `--prefix`: only deployments with this name prefix (otherwise read from the names found). */
  prefix?: string;
  /** Needed to find and delete the FortiCNAPP integration. */
  credentials?: LaceworkCredentials;
}

/** A log group that held one of our filters: kept (it holds the cluster's logs). */
export interface KeptLogGroup {
  region: string;
  name: string;
  cluster: string;
}

/** A deployment rebuilt from AWS and FortiCNAPP: what teardown removes, what it keeps, what it cannot know. */
export interface Discovery {
  accountId: string;
  /** undefined when nothing of ours was found. */
  deploymentId?: string;
  prefix: string;
  homeRegion?: string;
  /** Every region searched, defaults and what the deployment itself revealed included. */
  regions: string[];
  /** What teardown removes, as journal-like items (the handlers need nothing else). */
  items: UndoItem[];
  keptLogGroups: KeptLogGroup[];
  /** Things the person must know: what was left alone and why. */
  notes: string[];
}

const ROLE_NAME = /^(.+)-(ca|fh|cw)-([0-9a-f]{8})$/;
const WHICH: Record<string, RoleWhich> = { ca: 'cross-account', fh: 'firehose', cw: 'cloudwatch' };
const ARN_REGION = /arn:aws[a-z-]*:(?:sns|firehose|kms|logs|sqs):([a-z]{2}(?:-[a-z]+)+-\d):/g;
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The regions searched when `--region` is not given: the SDK's configured region, else us-east-1. */
export function defaultRegions(env: NodeJS.ProcessEnv = process.env): string[] {
  const r = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  return [r || 'us-east-1'];
}

interface Candidate {
  deploymentId: string;
  prefixes: Set<string>;
  regions: Set<string>;
  /** Tagged ARNs (from the tagging API) and role names, for KMS keys without an alias. */
  taggedArns: Set<string>;
}

interface OurRole {
  name: string;
  arn: string;
  which: RoleWhich;
  prefix: string;
  deploymentId: string;
  trust: unknown;
}

/** Roles with our name shape and our tags (ListRoles carries no tags: one ListRoleTags per candidate). */
async function ourRoles(aws: AwsClients): Promise<OurRole[]> {
  const iam = await aws.iam();
  const shaped: { name: string; arn: string; trust?: string; m: RegExpExecArray }[] = [];
  let Marker: string | undefined;
  do {
    const page = await iam.send(new ListRolesCommand({ Marker }));
    for (const r of page.Roles ?? []) {
      const m = r.RoleName ? ROLE_NAME.exec(r.RoleName) : null;
      if (m && r.RoleName && r.Arn) shaped.push({ name: r.RoleName, arn: r.Arn, trust: r.AssumeRolePolicyDocument, m });
    }
    Marker = page.IsTruncated ? page.Marker : undefined;
  } while (Marker);
  const out: OurRole[] = [];
  await mapLimit(shaped, 4, async (r) => {
    const tags = (await iam.send(new ListRoleTagsCommand({ RoleName: r.name }))).Tags ?? [];
    const id = tags.find((t) => t.Key === TAG_DEPLOYMENT)?.Value;
    const managed = tags.some((t) => t.Key === TAG_MANAGED_BY && t.Value === MANAGED_BY);
    // The tag must agree with the name: a role that only looks like ours is someone else's.
    if (!managed || !id || id !== r.m[3]) return;
    out.push({ name: r.name, arn: r.arn, which: WHICH[r.m[2] as string] as RoleWhich, prefix: r.m[1] as string, deploymentId: id, trust: parsePolicy(r.trust) });
  });
  return out;
}

/** Our tagged resources in one region: `[arn, deploymentId]`. */
async function taggedIn(aws: AwsClients, region: string, deploymentId?: string): Promise<[string, string][]> {
  const tagging = await aws.tagging(region);
  const out: [string, string][] = [];
  let PaginationToken: string | undefined;
  do {
    const page = await tagging.send(
      new GetResourcesCommand({
        TagFilters: [{ Key: TAG_MANAGED_BY, Values: [MANAGED_BY] }, ...(deploymentId ? [{ Key: TAG_DEPLOYMENT, Values: [deploymentId] }] : [])],
        PaginationToken,
      }),
    );
    for (const r of page.ResourceTagMappingList ?? []) {
      const id = r.Tags?.find((t) => t.Key === TAG_DEPLOYMENT)?.Value;
      if (r.ResourceARN && id) out.push([r.ResourceARN, id]);
    }
    PaginationToken = page.PaginationToken || undefined;
  } while (PaginationToken);
  return out;
}

/** The name prefix a tagged resource's name reveals (`<prefix><id>` for bucket, topic and stream). */
function prefixFromArn(arn: string, id: string): string | undefined {
  const name = arn.split(/[:/]/).pop() ?? '';
  return name.endsWith(id) && name.length > id.length && !arn.startsWith('arn:aws:kms:') ? name.slice(0, -id.length) : undefined;
}

const regionOfArn = (arn: string) => arn.split(':')[3] || undefined;

async function inlinePolicyRegions(aws: AwsClients, roleName: string): Promise<string[]> {
  const iam = await aws.iam();
  const names = (await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? [];
  const regions: string[] = [];
  for (const p of names) {
    const doc = (await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: p }))).PolicyDocument ?? '';
    const text = doc.startsWith('%7B') || doc.startsWith('%7b') ? decodeURIComponent(doc) : doc;
    for (const m of text.matchAll(ARN_REGION)) regions.push(m[1] as string);
  }
  return regions;
}

/** The bucket's region (GetBucketLocation answers from any region), or undefined when it does not exist. */
async function bucketRegion(aws: AwsClients, region: string, bucket: string): Promise<string | undefined> {
  const s3 = await aws.s3(region);
  try {
    const { LocationConstraint } = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
    // No constraint is us-east-1; 'EU' is the legacy name of eu-west-1.
    return !LocationConstraint ? 'us-east-1' : LocationConstraint === 'EU' ? 'eu-west-1' : LocationConstraint;
  } catch (err) {
    // Gone, or another account's bucket of that name (403): nothing of ours either way.
    if (isNotFound(err) || httpStatus(err) === 403) return undefined;
    throw err;
  }
}

function item(key: string, kind: ResourceKind, region: string, name: string, ref: Ref, seq: number): UndoItem {
  const done: DoneRecord = { t: 'done', key, kind, region, name, action: 'created', ref, at: new Date().toISOString() };
  return { key, kind, region, name, done: [done], seq };
}

/**
 * Finds the deployment (the one named, or the only one tagged) and everything of it that still exists.
 * Read-only. Throws UsageError when several deployments are found and none was named.
 */
export async function discover(req: DiscoverRequest, aws: AwsClients, lacework: LaceworkApi | undefined): Promise<Discovery> {
  const start = [...new Set([...(req.regions ?? []), ...defaultRegions()])];
  const accountId = await callerAccount(aws, start[0] as string);

  // 1. Which deployments exist: tagged roles (global) and tagged resources in the regions to search.
  const candidates = new Map<string, Candidate>();
  const cand = (id: string): Candidate => {
    let c = candidates.get(id);
    if (!c) candidates.set(id, (c = { deploymentId: id, prefixes: new Set(), regions: new Set(), taggedArns: new Set() }));
    return c;
  };
  const roles = await ourRoles(aws);
  for (const r of roles) {
    const c = cand(r.deploymentId);
    c.prefixes.add(r.prefix);
    if (r.which === 'cloudwatch') for (const region of regionsInCloudwatchTrust(r.trust)) c.regions.add(region);
  }
  const sweep = async (regions: string[], id?: string) => {
    for (const [region, found] of await Promise.all(regions.map(async (r) => [r, await taggedIn(aws, r, id)] as const))) {
      for (const [arn, depId] of found) {
        const c = cand(depId);
        c.taggedArns.add(arn);
        const p = prefixFromArn(arn, depId);
        if (p) c.prefixes.add(p);
        c.regions.add(regionOfArn(arn) ?? region);
      }
    }
  };
  await sweep(start, req.deploymentId);

  const matchesPrefix = (c: Candidate) => !req.prefix || c.prefixes.size === 0 || c.prefixes.has(req.prefix);
  let chosen: Candidate | undefined;
  if (req.deploymentId) {
    chosen = candidates.get(req.deploymentId) ?? cand(req.deploymentId);
  } else {
    const all = [...candidates.values()].filter(matchesPrefix);
    if (all.length > 1) {
      throw new UsageError(
        `Several deployments were found in AWS account ${accountId} (${all.map((c) => `${c.deploymentId}${c.prefixes.size ? ` prefix ${[...c.prefixes].join('/')}` : ''}`).join(', ')}); pass --deployment <id> to choose one.`,
        'AmbiguousDeployment',
      );
    }
    chosen = all[0];
  }
  if (!chosen) {
    return { accountId, prefix: req.prefix ?? DEFAULTS.prefix, regions: start, items: [], keptLogGroups: [], notes: [] };
  }
  const deploymentId = chosen.deploymentId;
  const prefix = req.prefix ?? (chosen.prefixes.size === 1 ? [...chosen.prefixes][0] : undefined) ?? DEFAULTS.prefix;
  if (chosen.prefixes.size > 1 && !req.prefix) {
    throw new UsageError(`Deployment ${deploymentId} has resources with several name prefixes (${[...chosen.prefixes].join(', ')}); pass --prefix.`, 'AmbiguousPrefix');
  }
  const probe = makeNames(prefix, deploymentId, accountId, start[0] as string);

  // 2. Every region the deployment reveals: the CloudWatch role's trust (cluster regions), the ARNs in the
  //    roles' policies and the bucket's location (home region), then a tag sweep of the new ones.
  const regions = new Set([...start, ...chosen.regions]);
  const mine = roles.filter((r) => r.deploymentId === deploymentId);
  for (const r of mine) for (const region of await inlinePolicyRegions(aws, r.name)) regions.add(region);
  const bucketAt = await bucketRegion(aws, start[0] as string, probe.bucket);
  if (bucketAt) regions.add(bucketAt);
  const extra = [...regions].filter((r) => !start.includes(r));
  if (extra.length > 0) await sweep(extra, deploymentId);
  const searched = [...regions].sort();

  // 3. Everything of it, by deterministic name (and by tag for keys a crash left without their alias).
  const items: UndoItem[] = [];
  // Keys as setup wrote them (a surviving journal then agrees); a second resource of a kind (a key a crash
  // left without its alias, a duplicate integration) gets its id appended.
  const add = (key: string, kind: ResourceKind, region: string, name: string, ref: Ref) => {
    const unique = items.some((i) => i.key === key) ? `${key}#${ref.id}` : key;
    items.push(item(unique, kind, region, name, ref, items.length));
  };
  const keptLogGroups: KeptLogGroup[] = [];
  const notes: string[] = [];
  const namesIn = (region: string): Names => makeNames(prefix, deploymentId, accountId, region);
  const ctx: BaseContext = { aws, lacework, signal: new AbortController().signal, sleep: (ms) => abortableSleep(ms, new AbortController().signal), progress: () => {} };
  const homeCandidates = new Set<string>();

  // IAM roles: ours only when the deployment tag says so.
  const iam = await aws.iam();
  for (const which of ['cross-account', 'firehose', 'cloudwatch'] as RoleWhich[]) {
    const name = which === 'cross-account' ? probe.caRole : which === 'firehose' ? probe.firehoseRole : probe.cloudwatchRole;
    const known = mine.find((r) => r.name === name);
    if (known) {
      add(roleKey(which), 'iam-role', 'global', name, { id: name, arn: known.arn });
      continue;
    }
    try {
      await iam.send(new GetRoleCommand({ RoleName: name }));
      notes.push(`IAM role ${name} was left alone: it does not carry the tag ${TAG_DEPLOYMENT}=${deploymentId}.`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  await mapLimit(searched, 4, async (region) => {
    const names = namesIn(region);
    // Subscription filters on the clusters' log groups (`<prefix>-<cluster>-eks-cw-<id>`).
    const logs = await aws.logs(region);
    const filterName = new RegExp(`^${escapeRe(prefix)}-(.+)-eks-cw-${deploymentId}$`);
    let nextToken: string | undefined;
    do {
      const page = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/eks/', nextToken }));
      for (const g of page.logGroups ?? []) {
        if (!g.logGroupName) continue;
        for (const f of (await listFilters(ctx, region, g.logGroupName)) ?? []) {
          const m = f.filterName ? filterName.exec(f.filterName) : null;
          if (!m || !f.filterName) continue;
          const cluster = m[1] as string;
          add(filterKey(region, cluster), 'subscription-filter', region, f.filterName, { id: f.filterName, region, logGroup: g.logGroupName, cluster });
          keptLogGroups.push({ region, name: g.logGroupName, cluster });
        }
      }
      nextToken = page.nextToken;
    } while (nextToken);

    // Stream and topic: only the home region has them, but the home region may be unknown.
    const fh = await aws.firehose(region);
    try {
      const d = (await fh.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: names.stream }))).DeliveryStreamDescription;
      add(STREAM_KEY, 'firehose-stream', region, names.stream, { id: names.stream, arn: d?.DeliveryStreamARN, region });
      homeCandidates.add(region);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const sns = await aws.sns(region);
    try {
      await sns.send(new GetTopicAttributesCommand({ TopicArn: names.topicArn }));
      add(TOPIC_KEY, 'sns-topic', region, names.topic, { id: names.topic, arn: names.topicArn, region });
      homeCandidates.add(region);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }

    // KMS: the key behind our alias, and any key tagged with this deployment (a crash can leave one without it).
    const kms = await aws.kms(region);
    const keys = new Map<string, Ref>();
    const consider = async (keyId: string, alias?: string) => {
      try {
        const { KeyMetadata: m } = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
        if (!m?.KeyId || m.KeyState === 'PendingDeletion' || keys.has(m.KeyId)) return;
        keys.set(m.KeyId, { id: m.KeyId, arn: m.Arn, region, ...(alias ? { alias } : {}) });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    };
    await consider(names.kmsAlias, names.kmsAlias);
    for (const arn of chosen?.taggedArns ?? []) if (arn.startsWith(`arn:aws:kms:${region}:`)) await consider(arn);
    for (const ref of keys.values()) {
      add(KMS_KEY, 'kms-key', region, typeof ref.alias === 'string' ? ref.alias : ref.id, ref);
      homeCandidates.add(region);
    }
  });

  // The bucket (ours by tag, or untagged with our random name: a crash before tagging) and our notification on it.
  if (bucketAt) {
    const owner = await bucketOwner(await aws.s3(bucketAt), probe.bucket, deploymentId);
    if (owner === 'ours' || owner === 'untagged') {
      const s3 = await aws.s3(bucketAt);
      const config = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: probe.bucket })).catch((e) => {
        if (isNotFound(e)) return undefined;
        throw e;
      });
      if ((config?.TopicConfigurations ?? []).some((t) => t.Id === probe.notificationId)) {
        add(NOTIFICATION_KEY, 's3-bucket-notification', bucketAt, probe.notificationId, { id: probe.notificationId, bucket: probe.bucket, region: bucketAt });
      }
      add(BUCKET_KEY, 's3-bucket', bucketAt, probe.bucket, { id: probe.bucket, arn: probe.bucketArn, region: bucketAt });
      homeCandidates.add(bucketAt);
    } else {
      notes.push(`S3 bucket ${probe.bucket} was left alone: it carries another deployment's tags.`);
    }
  }

  // FortiCNAPP: integrations using our cross-account role or our topic (any region's topic of this name).
  if (lacework) {
    const roleArn = probe.roleArn(probe.caRole);
    const topicArn = new RegExp(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:${accountId}:${escapeRe(probe.topic)}$`);
    for (const i of await lacework.listEksAudit()) {
      if (i.data?.crossAccountCredentials?.roleArn !== roleArn && !topicArn.test(i.data?.snsArn ?? '')) continue;
      add(INTEGRATION_KEY, 'forticnapp-integration', 'global', i.name, { id: i.intgGuid, name: i.name, region: 'global' });
    }
  }

  const clusters = [...new Map(keptLogGroups.map((g) => [`${g.region}/${g.cluster}`, g])).values()];
  if (items.length > 0) {
    notes.push(
      clusters.length > 0
        ? `Cluster logging was left as it is (${clusters.map((g) => `${g.cluster} in ${g.region}`).join(', ')}): without the journal nothing records where audit logging was off before setup. Turn it off yourself where you do not want it: aws eks update-cluster-config --region <region> --name <cluster> --logging '{"clusterLogging":[{"types":["audit"],"enabled":false}]}'`
        : 'Cluster logging was left as it is: without the journal nothing records where audit logging was off before setup.',
    );
  }
  if (keptLogGroups.length > 0) {
    notes.push(`Log groups kept (they hold the clusters' logs): ${keptLogGroups.map((g) => `${g.name} (${g.region})`).join(', ')}.`);
  }
  const homeRegion = homeCandidates.size === 1 ? [...homeCandidates][0] : undefined;
  return { accountId, deploymentId, prefix, homeRegion, regions: searched, items, keptLogGroups, notes };
}

/** What a discovered teardown did. */
export interface DiscoveredTeardownResult {
  results: ResourceResult[];
  errors: { key: string; message: string }[];
  /** The journal that recorded the removals, when one survived for this deployment. */
  journalPath?: string;
}

/** Removes what `discover` found, in teardown order, under the deployment's lock. */
export async function teardownDiscovered(
  env: Environment,
  found: Discovery & { deploymentId: string },
  aws: AwsClients,
  lacework: LaceworkApi | undefined,
  opts: { emit: Emit; signal: AbortSignal },
): Promise<DiscoveredTeardownResult> {
  const lock = acquireLock(env.stateDir, found.deploymentId);
  // A journal may still exist (teardown --discover by choice): record the removals in it too, under the
  // same keys setup used, so that it agrees with AWS afterwards.
  let journal: Journal | undefined;
  try {
    if (existsSync(journalPath(env.stateDir, found.deploymentId))) {
      journal = Journal.open(env.stateDir, found.deploymentId);
      journal.append({ t: 'run', command: 'teardown --discover', pid: process.pid, at: new Date().toISOString() });
    }
    opts.emit({ type: 'phase', phase: 'teardown' });
    const ctx: BaseContext = { aws, lacework, signal: opts.signal, sleep: (ms) => abortableSleep(ms, opts.signal), progress: () => {} };
    const out = await undoAll(found.items, ctx, HANDLERS, journal, opts.emit, { deploymentId: found.deploymentId });
    const kept: ResourceResult[] = found.keptLogGroups.map((g) => ({ kind: 'log-group', key: `log-group/${g.region}/${g.cluster}`, id: g.name, region: g.region, action: 'kept' }));
    return { results: [...out.results, ...kept], errors: out.errors, ...(journal ? { journalPath: journal.path } : {}) };
  } finally {
    journal?.close();
    lock.release();
  }
}

/** The AWS and FortiCNAPP clients a discovery uses. */
export function discoveryClients(req: DiscoverRequest): { aws: AwsClients; lacework?: LaceworkApi } {
  const aws = req.aws ?? createAwsClients({ profile: req.awsProfile });
  return { aws, ...(req.credentials ? { lacework: createLaceworkApi(req.credentials) } : {}) };
}
