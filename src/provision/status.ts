/**
 * `status`: checks one deployment hop by hop along the data path of DESIGN §1, against live AWS and
 * FortiCNAPP. Read-only. Every check ends in a state (ok, fail, warn, unchecked), what was found, and for
 * a failing hop the exact way to fix it: a setup re-run where setup repairs it (it re-creates what is
 * missing), otherwise the AWS CLI command that restores what setup made. Never prints; the CLI renders.
 */
import { GetBucketNotificationConfigurationCommand, HeadBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DescribeDeliveryStreamCommand } from '@aws-sdk/client-firehose';
import { GetRoleCommand, GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { GetTopicAttributesCommand, ListSubscriptionsByTopicCommand, type Subscription } from '@aws-sdk/client-sns';
import { UsageError } from '../errors.js';
import { describeAwsError, isAccessDenied, isNotFound } from '../aws/errors.js';
import { createAwsClients, type AwsClients } from '../aws/clients.js';
import { DEFAULTS, defaultInputs, defaultIntegrationName, type Inputs } from '../config/inputs.js';
import { bucketNameFromArn, makeNames, type Names } from '../config/naming.js';
import type { LaceworkApi } from '../lacework/api.js';
import { replay, type KeyState, type ReadJournal } from '../journal/journal.js';
import type { RunRecord } from '../journal/records.js';
import { callerAccount } from './deploy.js';
import { mapLimit } from './engine.js';
import {
  cloudwatchPolicy,
  cloudwatchTrust,
  crossAccountPolicy,
  crossAccountTrust,
  firehosePolicy,
  firehoseTrust,
  parsePolicy,
  regionsInCloudwatchTrust,
  samePolicy,
  topicPolicy,
  type PolicyDocument,
} from './policies.js';
import { abortableSleep } from './retry.js';
import type { BaseContext } from './step.js';
import { auditEnabled, describeCluster } from './steps/eks-audit-logging.js';
import { bucketArnOf, roleArnOf, type RoleWhich } from './steps/iam-role.js';
import { findLogGroup } from './steps/log-group.js';
import { listFilters } from './steps/subscription-filter.js';

/** ok: works · fail: broken (exit 1) · warn: not (yet) proven, not broken · unchecked: could not look. */
export type HopState = 'ok' | 'fail' | 'warn' | 'unchecked';

/** One check of one resource on the data path. */
export interface HopCheck {
  /** Row of the data-path table in DESIGN §1 (1 audit logging … 8 FortiCNAPP reads the object). */
  hop: number;
  /** Stable id of the check, e.g. `subscription-filter`, `topic-policy`. */
  check: string;
  /** The resource checked (a cluster, a filter name, a role name…). */
  resource: string;
  /** Region, or 'global'. */
  region: string;
  state: HopState;
  /** What was found. */
  detail: string;
  /** How to fix it (fail and warn only). */
  fix?: string;
}

export interface StatusReport {
  deploymentId: string;
  accountId: string;
  homeRegion: string;
  journalPath: string;
  checks: HopCheck[];
  /** No check failed. */
  healthy: boolean;
  /** The journal holds nothing live: the deployment was torn down (or never finished). */
  empty: boolean;
}

export interface StatusRequest {
  awsProfile?: string;
  /** Injected in tests; otherwise made from the profile. */
  aws?: AwsClients;
  /** undefined: the FortiCNAPP hop is reported as unchecked. */
  lacework?: LaceworkApi;
  /** Why there is no FortiCNAPP client (shown on the unchecked hop). */
  laceworkMissing?: string;
  /** Newest object older than this (ms) means nothing arrives; default one hour (Firehose flushes every 300 s). */
  recentMs?: number;
  now?: () => number;
}

/** A setup that finished less than this long ago may not have delivered its first object yet. */
const FIRST_OBJECT_GRACE_MS = 30 * 60_000;
const RECENT_MS = 60 * 60_000;

/** The inputs of the newest setup run in the journal (every option a re-run must repeat). */
export function lastSetupInputs(journal: ReadJournal): { inputs?: Inputs; at?: string } {
  const runs = journal.records.filter((r): r is RunRecord => r.t === 'run' && r.command === 'setup' && !!r.inputs);
  const last = runs[runs.length - 1];
  return { inputs: last?.inputs as Inputs | undefined, at: last?.at };
}

/** The clusters this deployment serves: one subscription filter each, all of them made by us. */
export function clustersOfJournal(live: Map<string, KeyState>): { region: string; cluster: string; filter: string }[] {
  return [...live.values()]
    .filter((s) => s.kind === 'subscription-filter')
    .map((s) => ({ region: s.region, cluster: s.key.split('/')[2] ?? '', filter: s.name }))
    .sort((a, b) => a.region.localeCompare(b.region) || a.cluster.localeCompare(b.cluster));
}

const q = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);

/** The setup command that re-creates this deployment's missing parts (same deployment: same account and prefix). */
export function setupCommandLine(inputs: Inputs, clusters: { region: string; cluster: string }[]): string {
  const byRegion = new Map<string, string[]>();
  for (const { region, cluster } of clusters) byRegion.set(region, [...(byRegion.get(region) ?? []), cluster]);
  for (const [region, list] of Object.entries(inputs.regionClusters)) {
    byRegion.set(region, [...new Set([...(byRegion.get(region) ?? []), ...list])]);
  }
  const args = ['npx forticnapp-eks-audit setup'];
  for (const [region, list] of byRegion) args.push(`--region-clusters ${q(`${region}=${list.join(',')}`)}`);
  args.push(`--home-region ${q(inputs.homeRegion)}`);
  if (inputs.prefix !== DEFAULTS.prefix) args.push(`--prefix ${q(inputs.prefix)}`);
  if (inputs.integrationName) args.push(`--integration-name ${q(inputs.integrationName)}`);
  for (const [k, v] of Object.entries(inputs.tags ?? {})) args.push(`--tag ${q(`${k}=${v}`)}`);
  if (inputs.filterPattern !== DEFAULTS.filterPattern) args.push(`--filter-pattern ${q(inputs.filterPattern)}`);
  if (inputs.laceworkAwsAccountId !== DEFAULTS.laceworkAwsAccountId) args.push(`--lacework-aws-account-id ${q(inputs.laceworkAwsAccountId)}`);
  if (inputs.existingBucketArn) args.push(`--existing-bucket-arn ${q(inputs.existingBucketArn)}`);
  if (inputs.existingCaRoleArn) args.push(`--existing-ca-role-arn ${q(inputs.existingCaRoleArn)}`);
  if (inputs.existingCaExternalId) args.push(`--existing-ca-external-id ${q(inputs.existingCaExternalId)}`);
  if (inputs.existingFirehoseRoleArn) args.push(`--existing-firehose-role-arn ${q(inputs.existingFirehoseRoleArn)}`);
  if (inputs.existingCwRoleArn) args.push(`--existing-cw-role-arn ${q(inputs.existingCwRoleArn)}`);
  if (inputs.kmsKeyArn) args.push(`--kms-key-arn ${q(inputs.kmsKeyArn)}`);
  if (inputs.noKms) args.push('--no-kms');
  if (inputs.bucketLifecycleDays !== DEFAULTS.bucketLifecycleDays) args.push(`--bucket-lifecycle-days ${inputs.bucketLifecycleDays}`);
  if (!inputs.bucketVersioning) args.push('--no-bucket-versioning');
  if (inputs.sqsQueueArn) args.push(`--sqs-queue-arn ${q(inputs.sqsQueueArn)}`);
  if (!inputs.enableAuditLogging) args.push('--no-enable-audit-logging');
  return args.join(' ');
}

const json = (doc: unknown) => q(JSON.stringify(doc));

/** Checks a deployment. Throws UsageError when the credentials belong to another AWS account. */
export async function checkDeployment(journal: ReadJournal, request: StatusRequest, signal: AbortSignal): Promise<StatusReport> {
  const { header } = journal;
  const live = replay(journal.records);
  const base = { deploymentId: header.deploymentId, accountId: header.accountId, homeRegion: header.homeRegion, journalPath: journal.path };
  if (live.size === 0) return { ...base, checks: [], healthy: false, empty: true };

  const aws = request.aws ?? createAwsClients({ profile: request.awsProfile });
  const account = await callerAccount(aws, header.homeRegion);
  if (account !== header.accountId) {
    throw new UsageError(
      `Deployment ${header.deploymentId} is in AWS account ${header.accountId}, but your credentials are for ${account}; use credentials of ${header.accountId}.`,
      'WrongAccount',
    );
  }
  const ctx: BaseContext = { aws, lacework: request.lacework, signal, sleep: (ms) => abortableSleep(ms, signal), progress: () => {} };
  const names = makeNames(header.prefix, header.deploymentId, header.accountId, header.homeRegion);
  const clusters = clustersOfJournal(live);
  const last = lastSetupInputs(journal);
  const inputs: Inputs = last.inputs ?? defaultInputs(header.homeRegion, header.prefix);
  const setupAgain = `run setup again with the same inputs; it re-creates what is missing: ${setupCommandLine(inputs, clusters)}`;
  const env: CheckEnv = {
    ctx,
    names,
    inputs,
    live,
    externalId: header.externalId ?? '',
    setupAgain,
    now: request.now ?? Date.now,
    recentMs: request.recentMs ?? RECENT_MS,
    setupAt: last.at ? Date.parse(last.at) : Date.parse(header.at),
    lacework: request.lacework,
    laceworkMissing: request.laceworkMissing,
  };

  const groups = await Promise.all([
    mapLimit(clusters, 8, (c) => clusterChecks(env, c.region, c.cluster, c.filter)).then((l) => l.flat()),
    streamChecks(env),
    mapLimit<RoleWhich, HopCheck[]>(['cloudwatch', 'firehose', 'cross-account'], 3, (w) => roleChecks(env, w)).then((l) => l.flat()),
    kmsChecks(env),
    bucketChecks(env),
    topicChecks(env),
    integrationChecks(env),
  ]);
  const checks = groups.flat().sort((a, b) => a.hop - b.hop);
  // The platform fails when anything before it fails: point at the first broken hop instead.
  const firstBroken = checks.find((c) => c.state === 'fail' && c.hop < 8);
  for (const c of checks) {
    if (c.check === 'forticnapp-integration' && c.state === 'fail' && firstBroken) c.fix = `fix hop ${firstBroken.hop} (${firstBroken.check}) first, then check again`;
  }
  return { ...base, checks, healthy: !checks.some((c) => c.state === 'fail'), empty: false };
}

interface CheckEnv {
  ctx: BaseContext;
  names: Names;
  inputs: Inputs;
  live: Map<string, KeyState>;
  externalId: string;
  setupAgain: string;
  now: () => number;
  recentMs: number;
  setupAt: number;
  lacework?: LaceworkApi;
  laceworkMissing?: string;
}

type Outcome = Omit<HopCheck, 'hop' | 'check' | 'resource' | 'region'>;

/** Runs one check; an AWS error becomes `unchecked` (AccessDenied says which permission is missing). */
async function guarded(hop: number, check: string, resource: string, region: string, fn: () => Promise<Outcome>): Promise<HopCheck> {
  try {
    return { hop, check, resource, region, ...(await fn()) };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const detail = isAccessDenied(err)
      ? `not allowed to look (${describeAwsError(err)}); see 'npx forticnapp-eks-audit permissions'`
      : `could not check: ${describeAwsError(err)}`;
    return { hop, check, resource, region, state: 'unchecked', detail };
  }
}

const ok = (detail: string): Outcome => ({ state: 'ok', detail });
const fail = (detail: string, fix: string): Outcome => ({ state: 'fail', detail, fix });

async function clusterChecks(env: CheckEnv, region: string, cluster: string, filterName: string): Promise<HopCheck[]> {
  const { ctx, names, inputs } = env;
  const logGroup = names.logGroup(cluster);
  return Promise.all([
    guarded(1, 'audit-logging', cluster, region, async () => {
      const cl = await describeCluster(ctx, region, cluster);
      if (!cl) return fail(`EKS cluster ${cluster} no longer exists in ${region}`, `if it was deleted for good, remove its filter with teardown, or run setup without it`);
      if (auditEnabled(cl)) return ok('audit logging is on');
      return fail(
        'audit logging is off: the control plane writes no audit events',
        inputs.enableAuditLogging
          ? env.setupAgain
          : `aws eks update-cluster-config --region ${region} --name ${q(cluster)} --logging '{"clusterLogging":[{"types":["audit"],"enabled":true}]}'`,
      );
    }),
    guarded(2, 'log-group', logGroup, region, async () => {
      const g = await findLogGroup(ctx, region, logGroup);
      return g ? ok('present') : fail(`log group ${logGroup} is missing`, env.setupAgain);
    }),
    guarded(3, 'subscription-filter', filterName, region, async () => {
      const filters = await listFilters(ctx, region, logGroup);
      const f = filters?.find((x) => x.filterName === filterName);
      if (!f) return fail(`our subscription filter is missing from ${logGroup}: no audit event leaves CloudWatch Logs`, env.setupAgain);
      const problems: string[] = [];
      if (f.destinationArn !== names.streamArn) problems.push(`it points at ${f.destinationArn ?? 'nothing'}, not at stream ${names.streamArn}`);
      if (f.roleArn !== roleArnOf(env, 'cloudwatch')) problems.push(`it uses role ${f.roleArn ?? 'none'}, not ${roleArnOf(env, 'cloudwatch')}`);
      if (f.filterPattern !== inputs.filterPattern) problems.push('its filter pattern differs from the one set up');
      return problems.length > 0 ? fail(problems.join('; '), env.setupAgain) : ok(`on ${logGroup}, delivering to ${names.stream}`);
    }),
  ]);
}

async function streamChecks(env: CheckEnv): Promise<HopCheck[]> {
  const { ctx, names } = env;
  const region = names.homeRegion;
  return [
    await guarded(4, 'firehose-stream', names.stream, region, async () => {
      const fh = await ctx.aws.firehose(region);
      let d;
      try {
        d = (await fh.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: names.stream }))).DeliveryStreamDescription;
      } catch (err) {
        if (isNotFound(err)) return fail(`Firehose stream ${names.stream} is missing`, env.setupAgain);
        throw err;
      }
      if (d?.DeliveryStreamStatus !== 'ACTIVE') {
        return fail(
          `the stream is ${d?.DeliveryStreamStatus ?? 'in an unknown state'}${d?.FailureDescription?.Details ? `: ${d.FailureDescription.Details}` : ''}`,
          d?.DeliveryStreamStatus === 'CREATING' ? 'wait a minute and check again' : `run teardown, then setup again: ${env.setupAgain}`,
        );
      }
      const dest = d.Destinations?.[0]?.ExtendedS3DestinationDescription;
      const problems: string[] = [];
      if (dest?.BucketARN !== bucketArnOf(env)) problems.push(`it writes to ${dest?.BucketARN ?? 'no bucket'}, not ${bucketArnOf(env)}`);
      if (dest?.RoleARN !== roleArnOf(env, 'firehose')) problems.push(`it uses role ${dest?.RoleARN ?? 'none'}, not ${roleArnOf(env, 'firehose')}`);
      if (dest?.Prefix !== names.objectPrefix) problems.push(`its prefix is ${dest?.Prefix ?? 'empty'}, not ${names.objectPrefix}`);
      return problems.length > 0 ? fail(problems.join('; '), `run teardown, then setup again: ${env.setupAgain}`) : ok('ACTIVE, writing to the bucket');
    }),
  ];
}

const ROLE_HOP: Record<RoleWhich, number> = { cloudwatch: 3, firehose: 4, 'cross-account': 8 };

async function roleChecks(env: CheckEnv, which: RoleWhich): Promise<HopCheck[]> {
  const { ctx, names, inputs } = env;
  const arn = roleArnOf(env, which);
  const name = arn.split('/').pop() ?? arn;
  const existing = which === 'cross-account' ? inputs.existingCaRoleArn : which === 'firehose' ? inputs.existingFirehoseRoleArn : inputs.existingCwRoleArn;
  const policyName = which === 'cross-account' ? names.caPolicy : which === 'firehose' ? names.firehosePolicy : names.cloudwatchPolicy;
  return [
    await guarded(ROLE_HOP[which], 'iam-role', name, 'global', async () => {
      const iam = await ctx.aws.iam();
      let role;
      try {
        role = (await iam.send(new GetRoleCommand({ RoleName: name }))).Role;
      } catch (err) {
        if (isNotFound(err)) return fail(`IAM role ${name} is missing`, existing ? `restore the role ${arn} you gave with --existing-*-role-arn, or run setup without that flag` : env.setupAgain);
        throw err;
      }
      // A role the user brought is theirs: only its existence is ours to check.
      if (existing) return ok('present (yours, given with --existing-*-role-arn; its policies are not compared)');
      const trust = parsePolicy(role?.AssumeRolePolicyDocument);
      const problems: string[] = [];
      const fixes: string[] = [];
      let expectedTrust: PolicyDocument;
      let trustProblem: string | undefined;
      if (which === 'cloudwatch') {
        const trusted = regionsInCloudwatchTrust(trust);
        const used = [...new Set([names.homeRegion, ...clustersOfJournal(env.live).map((c) => c.region)])];
        const missing = used.filter((r) => !trusted.includes(r));
        expectedTrust = cloudwatchTrust([...trusted, ...missing], names.accountId);
        if (missing.length > 0) trustProblem = `its trust policy does not let CloudWatch Logs in ${missing.join(', ')} assume it`;
        else if (!samePolicy(trust, expectedTrust)) trustProblem = 'its trust policy is not the one setup made';
      } else {
        expectedTrust = which === 'firehose' ? firehoseTrust(names) : crossAccountTrust(inputs.laceworkAwsAccountId, env.externalId);
        if (!samePolicy(trust, expectedTrust)) {
          trustProblem = which === 'firehose' ? 'its trust policy no longer lets Firehose assume it' : 'its trust policy no longer lets FortiCNAPP assume it with the external ID';
        }
      }
      if (trustProblem) {
        problems.push(trustProblem);
        fixes.push(`aws iam update-assume-role-policy --role-name ${name} --policy-document ${json(expectedTrust)}`);
      }
      const expectedPolicy =
        which === 'cloudwatch' ? cloudwatchPolicy(names.streamArn) : which === 'firehose' ? firehosePolicy(bucketArnOf(env), names) : crossAccountPolicy(bucketArnOf(env), names.topicArn);
      let actual: unknown;
      try {
        actual = parsePolicy((await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: policyName }))).PolicyDocument);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      const policyProblem =
        actual === undefined ? `its inline policy ${policyName} is missing` : !samePolicy(actual, expectedPolicy) ? `its inline policy ${policyName} is not the one setup made` : undefined;
      if (policyProblem) {
        problems.push(policyProblem);
        fixes.push(`aws iam put-role-policy --role-name ${name} --policy-name ${policyName} --policy-document ${json(expectedPolicy)}`);
      }
      return problems.length > 0 ? fail(problems.join('; '), fixes.join(' && ')) : ok('trust and inline policy as setup made them');
    }),
  ];
}

async function kmsChecks(env: CheckEnv): Promise<HopCheck[]> {
  const { ctx, inputs, names } = env;
  if (inputs.noKms) return [];
  const ours = env.live.get('kms-key')?.done[0]?.ref;
  const keyId = inputs.kmsKeyArn ?? (ours?.id as string | undefined);
  if (!keyId) return [];
  const region = names.homeRegion;
  return [
    await guarded(4, 'kms-key', inputs.kmsKeyArn ?? names.kmsAlias, region, async () => {
      const kms = await ctx.aws.kms(region);
      let m;
      try {
        m = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
      } catch (err) {
        if (isNotFound(err)) return fail('the KMS key that encrypts the stream, bucket and topic is gone', `run teardown, then setup again: ${env.setupAgain}`);
        throw err;
      }
      if (m?.KeyState === 'Enabled') return ok('enabled');
      return fail(
        `the key is ${m?.KeyState ?? 'unusable'}: nothing can be encrypted or read`,
        m?.KeyState === 'PendingDeletion'
          ? `aws kms cancel-key-deletion --region ${region} --key-id ${keyId} && aws kms enable-key --region ${region} --key-id ${keyId}`
          : `aws kms enable-key --region ${region} --key-id ${keyId}`,
      );
    }),
  ];
}

/** `YYYY/MM/DD/` of a UTC day: Firehose writes objects under `<prefix>YYYY/MM/DD/HH/`. */
const dayPath = (t: number) => new Date(t).toISOString().slice(0, 10).replace(/-/g, '/') + '/';

async function bucketChecks(env: CheckEnv): Promise<HopCheck[]> {
  const { ctx, names } = env;
  const region = names.homeRegion;
  const bucket = bucketNameFromArn(bucketArnOf(env));
  const s3 = await ctx.aws.s3(region);
  const exists = await guarded(5, 's3-bucket', bucket, region, async () => {
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    } catch (err) {
      if (isNotFound(err)) return fail(`bucket ${bucket} is missing`, env.inputs.existingBucketArn ? 'restore the bucket you gave with --existing-bucket-arn' : env.setupAgain);
      throw err;
    }
    return ok('present');
  });
  if (exists.state !== 'ok') return [exists];
  const objects = guarded(5, 'objects', `s3://${bucket}/${names.objectPrefix}`, region, async () => {
    let newest: Date | undefined;
    let count = 0;
    for (const day of [dayPath(env.now()), dayPath(env.now() - 86_400_000)]) {
      let ContinuationToken: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: names.objectPrefix + day, ContinuationToken }));
        for (const o of page.Contents ?? []) {
          count++;
          if (o.LastModified && (!newest || o.LastModified > newest)) newest = o.LastModified;
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
      if (newest) break;
    }
    const age = newest ? env.now() - newest.getTime() : undefined;
    if (age !== undefined && age <= env.recentMs) {
      return ok(`newest object ${Math.max(0, Math.round(age / 60_000))} min old (${count} today)`);
    }
    const what = newest ? `the newest object is ${Math.round((age ?? 0) / 60_000)} min old` : 'no object in the last two days';
    if (env.now() - env.setupAt < FIRST_OBJECT_GRACE_MS) {
      return { state: 'warn', detail: `${what}; setup finished recently`, fix: 'Firehose delivers within about 5 minutes of the first audit events (300 s buffer); check again shortly' };
    }
    return fail(`${what}: audit events are not arriving`, 'the hops above show where the path breaks; if all are ok, check that the clusters are in use and the filter pattern matches their events');
  });
  const notification = guarded(5, 'bucket-notification', names.notificationId, region, async () => {
    let config;
    try {
      config = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
    } catch (err) {
      if (isNotFound(err)) return fail('the bucket is gone', env.setupAgain);
      throw err;
    }
    const ours = config.TopicConfigurations?.find((t) => t.Id === names.notificationId);
    if (!ours) return fail(`the bucket no longer notifies topic ${names.topic} of new objects`, env.setupAgain);
    const problems: string[] = [];
    if (ours.TopicArn !== names.topicArn) problems.push(`it notifies ${ours.TopicArn}, not ${names.topicArn}`);
    if (!(ours.Events ?? []).some((e) => e === 's3:ObjectCreated:*')) problems.push(`it is for ${(ours.Events ?? []).join(', ') || 'no events'}, not s3:ObjectCreated:*`);
    const prefix = ours.Filter?.Key?.FilterRules?.find((r) => r.Name?.toLowerCase() === 'prefix')?.Value;
    if (prefix !== undefined && prefix !== names.objectPrefix) problems.push(`its prefix filter is ${prefix}, not ${names.objectPrefix}`);
    if (problems.length === 0) return ok(`ObjectCreated under ${names.objectPrefix} → ${names.topic}`);
    return fail(problems.join('; '), ours.TopicArn !== names.topicArn ? env.setupAgain : `restore it in the S3 console (bucket ${bucket} → Properties → Event notifications: ${names.notificationId}), or run teardown and setup again`);
  });
  return [exists, ...(await Promise.all([objects, notification]))];
}

async function topicChecks(env: CheckEnv): Promise<HopCheck[]> {
  const { ctx, names, inputs } = env;
  const region = names.homeRegion;
  const sns = await ctx.aws.sns(region);
  let attrs: Record<string, string> | undefined;
  const topic = await guarded(6, 'sns-topic', names.topic, region, async () => {
    try {
      attrs = (await sns.send(new GetTopicAttributesCommand({ TopicArn: names.topicArn }))).Attributes ?? {};
    } catch (err) {
      if (isNotFound(err)) return fail(`SNS topic ${names.topic} is missing`, env.setupAgain);
      throw err;
    }
    return ok('present');
  });
  if (!attrs) return [topic];
  const expected = topicPolicy(names.topicArn, bucketNameFromArn(bucketArnOf(env)), names.accountId, inputs.laceworkAwsAccountId);
  const policy = guarded(6, 'topic-policy', names.topic, region, async () => {
    const actual = parsePolicy(attrs?.Policy);
    if (samePolicy(actual, expected)) return ok('FortiCNAPP may subscribe, the bucket may publish');
    const stmts = ((actual as PolicyDocument | undefined)?.Statement ?? []) as Record<string, unknown>[];
    const missing = expected.Statement.filter((e) => !stmts.some((s) => samePolicy(s, e))).map((e) => String(e.Sid));
    return fail(
      missing.length > 0 ? `the topic policy lacks ${missing.join(' and ')}: ${missing.includes('AllowS3ToPublish') ? 'S3 cannot announce new objects' : 'FortiCNAPP cannot subscribe'}` : 'the topic policy is not the one setup made',
      `aws sns set-topic-attributes --region ${region} --topic-arn ${names.topicArn} --attribute-name Policy --attribute-value ${json(expected)}`,
    );
  });
  const subscriptions = guarded(7, 'sns-subscriptions', names.topic, region, async () => {
    const subs: Subscription[] = [];
    let NextToken: string | undefined;
    do {
      const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: names.topicArn, NextToken }));
      subs.push(...(page.Subscriptions ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    const confirmed = subs.filter((s) => s.SubscriptionArn?.startsWith('arn:'));
    const pending = subs.filter((s) => !s.SubscriptionArn?.startsWith('arn:'));
    const describe = (l: Subscription[]) => l.map((s) => `${s.Protocol}:${s.Endpoint}`).join(', ');
    if (inputs.sqsQueueArn && !confirmed.some((s) => s.Endpoint === inputs.sqsQueueArn)) {
      const isPending = pending.some((s) => s.Endpoint === inputs.sqsQueueArn);
      return fail(
        isPending ? `our subscription of ${inputs.sqsQueueArn} is pending confirmation` : `queue ${inputs.sqsQueueArn} (--sqs-queue-arn) is not subscribed`,
        isPending ? 'the queue owner must confirm it (or allow this topic in the queue policy)' : env.setupAgain,
      );
    }
    if (confirmed.length === 0) {
      return fail(
        pending.length > 0 ? `only pending subscriptions (${describe(pending)}): nothing is delivered yet` : 'nobody is subscribed: FortiCNAPP is never told about new objects',
        'FortiCNAPP subscribes itself once the integration works: check the integration hop below and the topic policy; or pass --sqs-queue-arn to subscribe a queue yourself',
      );
    }
    return ok(`${confirmed.length} confirmed (${describe(confirmed)})${pending.length > 0 ? `, ${pending.length} pending` : ''}`);
  });
  return [topic, ...(await Promise.all([policy, subscriptions]))];
}

async function integrationChecks(env: CheckEnv): Promise<HopCheck[]> {
  const ref = env.live.get('forticnapp-integration')?.done[0]?.ref;
  const name = String(ref?.name ?? env.inputs.integrationName ?? defaultIntegrationName(env.names.accountId));
  if (!ref) {
    return [{ hop: 8, check: 'forticnapp-integration', resource: name, region: 'global', state: 'fail', detail: 'the journal has no registered integration', fix: env.setupAgain }];
  }
  const guid = ref.id;
  if (!env.lacework) {
    return [{ hop: 8, check: 'forticnapp-integration', resource: `${name} (${guid})`, region: 'global', state: 'unchecked', detail: env.laceworkMissing ?? 'no FortiCNAPP credentials given', fix: 'pass --api-key-file (or --account, --api-key and --api-secret) to check it' }];
  }
  const lacework = env.lacework;
  return [
    await guarded(8, 'forticnapp-integration', `${name} (${guid})`, 'global', async () => {
      const i = await lacework.getIntegration(guid);
      if (!i) return fail(`integration ${guid} no longer exists in FortiCNAPP`, env.setupAgain);
      const problems: string[] = [];
      if (i.enabled !== 1) problems.push('it is disabled in FortiCNAPP');
      if (i.data?.snsArn !== env.names.topicArn) problems.push(`it listens on ${i.data?.snsArn}, not ${env.names.topicArn}`);
      if (i.data?.crossAccountCredentials?.roleArn !== roleArnOf(env, 'cross-account')) problems.push(`it assumes ${i.data?.crossAccountCredentials?.roleArn}, not ${roleArnOf(env, 'cross-account')}`);
      if (i.state && i.state.ok === false) {
        const d = i.state.details as { message?: unknown } | string | undefined;
        const why = typeof d === 'string' ? d : typeof d?.message === 'string' ? d.message : d === undefined ? '' : JSON.stringify(d);
        problems.push(`FortiCNAPP reports it unhealthy${why ? `: ${why.slice(0, 300)}` : ''}`);
      }
      if (problems.length > 0) {
        return fail(
          problems.join('; '),
          i.enabled !== 1
            ? 'enable it in the FortiCNAPP console (Settings > Integrations > Cloud accounts)'
            : 'FortiCNAPP reads through the cross-account role (its trust needs the external ID) and the topic; its own error is in the console (Settings > Integrations > Cloud accounts)',
        );
      }
      const last = i.state?.lastSuccessfulTime ? `, last success ${new Date(i.state.lastSuccessfulTime).toISOString()}` : '';
      return ok(`enabled, FortiCNAPP reports it healthy${last}`);
    }),
  ];
}
