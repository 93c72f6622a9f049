/**
 * Read-only AWS lookups shared by the wizard and preflight, written once (issue 9; issue 11 item 6): who the
 * caller is, which EKS clusters a region has and in what state, and where a bucket lives. Each SDK module is
 * imported when first used (the AwsClients factory has loaded it already), so importing this file costs nothing.
 *
 * Errors: `callerAccount` turns every way of not reaching AWS into one clear line (UsageError, exit 2, see
 * `awsAccessProblem`); the other lookups let SDK errors through, except the answers they map (not found,
 * denied), so that each caller decides what a denied listing means for it.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from '@aws-sdk/client-eks';
import pMap from 'p-map';
import { UsageError } from '../errors.js';
import type { AwsClients } from './clients.js';
import { describeAwsError, errName, httpStatus, isAccessDenied, isNotFound, unlessNotFound } from './errors.js';

/** Names of SDK errors that mean AWS refused the credentials themselves (not a permission). */
const REJECTED_CREDENTIALS = [
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'RequestExpired',
  'InvalidAccessKeyId',
  'AuthFailure',
];

/** Node's and the SDK's codes for an endpoint that cannot be reached (DNS, refused, reset, unroutable, timed out). */
const UNREACHABLE = ['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'TimeoutError', 'RequestTimeout'];

/** Where the AWS profile in force came from, for messages. */
interface ProfileInUse {
  name: string;
  from: '--aws-profile' | 'AWS_PROFILE';
}

function profileInUse(aws: AwsClients, env: NodeJS.ProcessEnv): ProfileInUse | undefined {
  // AwsClients carries the options it was made with (the --aws-profile value); older factories may not.
  const fromFlag = (aws as { options?: { profile?: string } }).options?.profile;
  const fromEnv = env.AWS_PROFILE?.trim();
  // commander fills --aws-profile from AWS_PROFILE (its .env()): the same value is the environment's.
  if (fromFlag && fromFlag !== fromEnv) return { name: fromFlag, from: '--aws-profile' };
  return fromEnv ? { name: fromEnv, from: 'AWS_PROFILE' } : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Whether the shared AWS files define a profile: `[profile <name>]` (or `[default]`) in the config file,
 * `[<name>]` in the credentials file, at the paths the SDK reads (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE,
 * else ~/.aws/config and ~/.aws/credentials).
 */
export function awsProfileExists(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const home = env.HOME || homedir();
  const config = readText(env.AWS_CONFIG_FILE || join(home, '.aws', 'config'));
  const credentials = readText(env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'));
  const n = escapeRegExp(name);
  const inConfig = new RegExp(`^\\s*\\[\\s*(profile\\s+${n}${name === 'default' ? `|${n}` : ''})\\s*\\]`, 'm');
  const inCredentials = new RegExp(`^\\s*\\[\\s*${n}\\s*\\]`, 'm');
  return inConfig.test(config) || inCredentials.test(credentials);
}

/** The host (or host:port) a failed request went to, from Node's error or the endpoint settings. */
function endpointOf(err: unknown, service: string, region: string, env: NodeJS.ProcessEnv): string {
  const e = err as { hostname?: string; address?: string; port?: number; cause?: unknown } | undefined;
  if (e?.hostname) return e.hostname;
  if (e?.address) return e.port ? `${e.address}:${e.port}` : e.address;
  if (e?.cause && e.cause !== err) {
    const c = e.cause as { hostname?: string; address?: string; port?: number };
    if (c.hostname) return c.hostname;
    if (c.address) return c.port ? `${c.address}:${c.port}` : c.address;
  }
  return env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] || env.AWS_ENDPOINT_URL || `${service}.${region}.amazonaws.com`;
}

function codeOf(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown; cause?: { code?: unknown } } | undefined;
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  return typeof e?.name === 'string' ? e.name : '';
}

/**
 * Classifies an error of the first AWS call of a run: no credentials at all, a named profile that does not
 * exist, an endpoint that cannot be reached, or credentials AWS refused. Each is a UsageError (exit 2) whose
 * message is one line saying what to do:
 * - `NoAwsCredentials`: the SDK's credential chain found nothing (CredentialsProviderError), or the profile in
 *   use gives none (its own reason, e.g. an expired SSO session, is quoted);
 * - `AwsProfileNotFound`: `--aws-profile`/`AWS_PROFILE` names a profile absent from ~/.aws/config and
 *   ~/.aws/credentials (named, with where it came from);
 * - `AwsUnreachable`: ENOTFOUND, ECONNREFUSED, ETIMEDOUT… (names the endpoint, and AWS_ENDPOINT_URL if set);
 * - `AwsCredentialsRejected`: InvalidClientTokenId, ExpiredToken, SignatureDoesNotMatch…
 * @param service the endpoint prefix of the call, for the unreachable message (e.g. `sts`, `eks`).
 * @returns the UsageError to throw, or undefined when the error is none of these (a permission, a throttle…).
 */
export function awsAccessProblem(
  err: unknown,
  at: { aws: AwsClients; region: string; service?: string; env?: NodeJS.ProcessEnv },
): UsageError | undefined {
  const env = at.env ?? process.env;
  const service = at.service ?? 'sts';
  const name = errName(err);
  const code = codeOf(err);
  const profile = profileInUse(at.aws, env);
  if (name === 'CredentialsProviderError' || name === 'ProviderError' || name === 'TokenProviderError') {
    if (profile && profile.name !== 'default' && !awsProfileExists(profile.name, env)) {
      return new UsageError(
        `AWS profile '${profile.name}' (from ${profile.from}) is not in ~/.aws/config or ~/.aws/credentials. Check the name ('aws configure list-profiles'), or ${profile.from === 'AWS_PROFILE' ? 'unset AWS_PROFILE' : 'leave out --aws-profile'} to use the default credentials.`,
        'AwsProfileNotFound',
      );
    }
    const message = (err as Error).message ?? '';
    const generic = /could not load credentials from any providers/i.test(message) || message === '';
    if (profile && !generic) {
      return new UsageError(`AWS profile '${profile.name}' gives no usable credentials (${message.replace(/\s+/g, ' ').trim()}). Fix the profile (e.g. 'aws sso login --profile ${profile.name}') and run again.`, 'NoAwsCredentials');
    }
    return new UsageError(
      `No AWS credentials found${profile ? ` for profile '${profile.name}'` : ''}. Run in AWS CloudShell, or configure credentials ('aws configure', 'aws sso login', AWS_PROFILE or --aws-profile) and run again.`,
      'NoAwsCredentials',
    );
  }
  if (UNREACHABLE.includes(code) || UNREACHABLE.includes(name)) {
    const endpoint = endpointOf(err, service, at.region, env);
    const custom = env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] || env.AWS_ENDPOINT_URL;
    return new UsageError(
      `Cannot reach the AWS endpoint ${endpoint} (${code || name}). Check the network connection${custom ? ` and AWS_ENDPOINT_URL (${custom})` : ' and proxy settings'}, then run again.`,
      'AwsUnreachable',
    );
  }
  if (REJECTED_CREDENTIALS.includes(name)) {
    return new UsageError(
      `AWS rejected the credentials${profile ? ` of profile '${profile.name}'` : ''} (${describeAwsError(err)}). Refresh them ('aws sso login', new access keys, or a new session) and run again.`,
      'AwsCredentialsRejected',
    );
  }
  return undefined;
}

/**
 * The 12-digit id of the AWS account the credentials belong to (STS GetCallerIdentity).
 * @param region the STS endpoint's region (e.g. AWS_REGION, or the home region).
 * @param env where AWS_PROFILE, AWS_ENDPOINT_URL and the shared-file paths are read; default process.env.
 * @throws UsageError `NoAwsCredentials`, `AwsProfileNotFound`, `AwsUnreachable` or `AwsCredentialsRejected`
 *   (exit 2, see `awsAccessProblem`); other SDK errors as they come.
 */
export async function callerAccount(aws: AwsClients, region: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  let account: string | undefined;
  try {
    const sts = await aws.sts(region);
    const { GetCallerIdentityCommand } = await import('./sdk/sts.js');
    account = (await sts.send(new GetCallerIdentityCommand({}))).Account;
  } catch (err) {
    throw awsAccessProblem(err, { aws, region, service: 'sts', env }) ?? err;
  }
  if (!account) throw new Error('STS GetCallerIdentity answered without an account id');
  return account;
}

/**
 * Names of the EKS clusters of a region, every page (the SDK's `paginateListClusters`), in the order EKS gives.
 * @throws the SDK's error as is (e.g. AccessDeniedException: the caller may not list).
 */
export async function listClusters(aws: AwsClients, region: string): Promise<string[]> {
  const { paginateListClusters } = await import('./sdk/eks.js');
  const client = await aws.eks(region);
  const names: string[] = [];
  for await (const page of paginateListClusters({ client, pageSize: 100 }, {})) names.push(...(page.clusters ?? []));
  return names;
}

/**
 * One cluster, as EKS DescribeCluster gives it.
 * @returns undefined when the region has no such cluster (ResourceNotFoundException).
 * @throws the SDK's error as is otherwise (e.g. AccessDeniedException).
 */
export async function describeCluster(aws: AwsClients, region: string, name: string): Promise<Cluster | undefined> {
  const { DescribeClusterCommand } = await import('./sdk/eks.js');
  const client = await aws.eks(region);
  return (await unlessNotFound(client.send(new DescribeClusterCommand({ name }))))?.cluster;
}

/** Whether a cluster sends the `audit` control-plane log type to CloudWatch Logs. */
export function auditLoggingEnabled(cluster: Pick<Cluster, 'logging'>): boolean {
  return (cluster.logging?.clusterLogging ?? []).some((l) => l.enabled === true && (l.types ?? []).includes('audit'));
}

/** A cluster as a list shows it. */
export interface ClusterSummary {
  name: string;
  /** EKS status, e.g. ACTIVE or CREATING; undefined when DescribeCluster failed (denied). */
  status?: string;
  /** Whether `audit` logging is on; undefined when DescribeCluster failed (denied). */
  auditEnabled?: boolean;
}

/**
 * Every cluster of a region with its status and audit state: ListClusters, then DescribeCluster of each, at most
 * `concurrency` at once (p-map). A cluster whose description is denied or fails is listed with its name only; one
 * deleted between the two calls is left out. Sorted by name.
 * @param opts.concurrency DescribeCluster calls in flight at once; default 8.
 * @param opts.signal stops starting new DescribeCluster calls when aborted (rejects with the signal's reason).
 * @throws what `listClusters` throws.
 */
export async function clusterSummaries(
  aws: AwsClients,
  region: string,
  opts: { concurrency?: number; signal?: AbortSignal } = {},
): Promise<ClusterSummary[]> {
  const names = [...(await listClusters(aws, region))].sort();
  const described = await pMap(
    names,
    async (name): Promise<ClusterSummary | undefined> => {
      try {
        const c = await describeCluster(aws, region, name);
        return c ? { name, status: c.status, auditEnabled: auditLoggingEnabled(c) } : undefined;
      } catch {
        return { name };
      }
    },
    { concurrency: opts.concurrency ?? 8, ...(opts.signal ? { signal: opts.signal } : {}) },
  );
  return described.filter((c): c is ClusterSummary => c !== undefined);
}

/**
 * The region named by a GetBucketLocation answer. S3 answers `null` (or nothing) for us-east-1, and `EU` for
 * buckets made in eu-west-1 with the legacy constraint (S3 API Reference, GetBucketLocation: "Buckets in Region
 * us-east-1 have a LocationConstraint of null. Buckets with a LocationConstraint of EU reside in eu-west-1.").
 */
export function regionOfLocationConstraint(constraint: string | null | undefined): string {
  if (constraint === undefined || constraint === null || constraint === '') return 'us-east-1';
  if (constraint === 'EU') return 'eu-west-1';
  return constraint;
}

/**
 * Where a bucket lives: the one place the tool reads bucket locations (issue 11 item 6). Asks from us-east-1,
 * which answers for a bucket of any commercial region.
 * @param expectedOwner the account that must own the bucket (`ExpectedBucketOwner`): a bucket of another account
 *   answers 403 and is reported as 'denied'.
 * @returns the region (special answers mapped by `regionOfLocationConstraint`); 'not-found' when there is no such
 *   bucket; 'denied' when it belongs to another account or the caller may not read its location.
 * @throws other SDK errors as they come.
 */
export async function bucketRegion(aws: AwsClients, bucket: string, expectedOwner?: string): Promise<string | 'not-found' | 'denied'> {
  const { GetBucketLocationCommand } = await import('./sdk/s3.js');
  const s3 = await aws.s3('us-east-1');
  try {
    const out = await s3.send(new GetBucketLocationCommand({ Bucket: bucket, ...(expectedOwner ? { ExpectedBucketOwner: expectedOwner } : {}) }));
    return regionOfLocationConstraint(out.LocationConstraint as string | null | undefined);
  } catch (err) {
    if (isNotFound(err)) return 'not-found';
    if (isAccessDenied(err) || httpStatus(err) === 403) return 'denied';
    throw err;
  }
}
