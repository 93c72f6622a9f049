/**
 * aws/lookups.ts with fake clients: real SDK client objects (the SDK's paginators check the client's class) whose
 * `send` answers from a script, so no request leaves the process.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DescribeClusterCommand, EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import { GetBucketLocationCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import type { AwsClients } from '../../../src/aws/clients.js';
import {
  auditLoggingEnabled,
  awsProfileExists,
  bucketRegion,
  callerAccount,
  clusterSummaries,
  describeCluster,
  listClusters,
  regionOfLocationConstraint,
} from '../../../src/aws/lookups.js';

type Send = (command: unknown) => Promise<unknown>;

/** A client of `Ctor`'s class whose `send` is `send` (nothing else of the SDK runs). */
function fakeClient<T extends object>(Ctor: { prototype: T }, send: Send): T {
  return Object.assign(Object.create(Ctor.prototype) as T, { send });
}

/** An SDK-shaped service error. */
function awsError(name: string, message: string, status: number): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

function fakeAws(parts: { eks?: Send; s3?: Send; sts?: Send; profile?: string }): AwsClients & { regions: string[] } {
  const regions: string[] = [];
  const refuse: Send = async (c) => {
    throw new Error(`unexpected ${(c as object).constructor.name}`);
  };
  return {
    regions,
    options: { profile: parts.profile },
    eks: async (region: string) => (regions.push(`eks:${region}`), fakeClient(EKSClient, parts.eks ?? refuse)),
    s3: async (region: string) => (regions.push(`s3:${region}`), fakeClient(S3Client, parts.s3 ?? refuse)),
    sts: async (region: string) => (regions.push(`sts:${region}`), fakeClient(STSClient, parts.sts ?? refuse)),
  } as unknown as AwsClients & { regions: string[] };
}

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'fea-lookups-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** An environment with a HOME of its own and no AWS variables. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { HOME: tmp, ...extra };
}

async function failure(p: Promise<unknown>): Promise<UsageError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  const u = err as UsageError;
  expect(u.exitCode).toBe(2);
  expect(u.message.split('\n')).toHaveLength(1);
  return u;
}

describe('callerAccount', () => {
  it('gives the account of GetCallerIdentity, asking STS in the given region', async () => {
    const aws = fakeAws({
      sts: async (c) => {
        expect(c).toBeInstanceOf(GetCallerIdentityCommand);
        return { Account: '123456789012' };
      },
    });
    await expect(callerAccount(aws, 'eu-west-1', env())).resolves.toBe('123456789012');
    expect(aws.regions).toEqual(['sts:eu-west-1']);
  });

  const providerError = (message = 'Could not load credentials from any providers') =>
    Object.assign(new Error(message), { name: 'CredentialsProviderError', tryNextLink: false });

  it('no credentials at all: NoAwsCredentials, saying how to get some', async () => {
    const err = await failure(callerAccount(fakeAws({ sts: async () => Promise.reject(providerError()) }), 'us-east-1', env()));
    expect(err.code).toBe('NoAwsCredentials');
    expect(err.message).toBe(
      "No AWS credentials found. Run in AWS CloudShell, or configure credentials ('aws configure', 'aws sso login', AWS_PROFILE or --aws-profile) and run again.",
    );
  });

  it('AWS_PROFILE=nope: AwsProfileNotFound naming the profile and where it came from', async () => {
    mkdirSync(path.join(tmp, '.aws'));
    writeFileSync(path.join(tmp, '.aws', 'config'), '[default]\nregion = us-east-1\n[profile other]\nregion = eu-west-1\n');
    const aws = fakeAws({ sts: async () => Promise.reject(providerError()) });
    const err = await failure(callerAccount(aws, 'us-east-1', env({ AWS_PROFILE: 'nope' })));
    expect(err.code).toBe('AwsProfileNotFound');
    expect(err.message).toBe(
      "AWS profile 'nope' (from AWS_PROFILE) is not in ~/.aws/config or ~/.aws/credentials. Check the name ('aws configure list-profiles'), or unset AWS_PROFILE to use the default credentials.",
    );
    // --aws-profile wins over AWS_PROFILE, and is named as such.
    const flag = await failure(callerAccount(fakeAws({ profile: 'typo', sts: async () => Promise.reject(providerError()) }), 'us-east-1', env({ AWS_PROFILE: 'other' })));
    expect(flag.message).toMatch(/^AWS profile 'typo' \(from --aws-profile\) is not in .* or leave out --aws-profile/);
  });

  it('a profile that exists but gives no credentials: its own reason, not "not found"', async () => {
    mkdirSync(path.join(tmp, '.aws'));
    writeFileSync(path.join(tmp, '.aws', 'credentials'), '[sso]\naws_access_key_id = x\n');
    const expired = providerError('The SSO session associated with this profile has expired or is otherwise invalid.');
    const err = await failure(callerAccount(fakeAws({ sts: async () => Promise.reject(expired) }), 'us-east-1', env({ AWS_PROFILE: 'sso' })));
    expect(err.code).toBe('NoAwsCredentials');
    expect(err.message).toMatch(/^AWS profile 'sso' gives no usable credentials \(The SSO session .* has expired.*\)\. Fix the profile \(e\.g\. 'aws sso login --profile sso'\)/);
  });

  it('an unreachable endpoint: AwsUnreachable naming it (refused, DNS, timeout)', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', address: '127.0.0.1', port: 1, $metadata: {} });
    const e1 = await failure(callerAccount(fakeAws({ sts: async () => Promise.reject(refused) }), 'us-east-1', env({ AWS_ENDPOINT_URL: 'http://127.0.0.1:1' })));
    expect(e1.code).toBe('AwsUnreachable');
    expect(e1.message).toBe('Cannot reach the AWS endpoint 127.0.0.1:1 (ECONNREFUSED). Check the network connection and AWS_ENDPOINT_URL (http://127.0.0.1:1), then run again.');

    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND sts.us-east-1.amazonaws.com'), { code: 'ENOTFOUND', hostname: 'sts.us-east-1.amazonaws.com' });
    const e2 = await failure(callerAccount(fakeAws({ sts: async () => Promise.reject(dns) }), 'us-east-1', env()));
    expect(e2.message).toBe('Cannot reach the AWS endpoint sts.us-east-1.amazonaws.com (ENOTFOUND). Check the network connection and proxy settings, then run again.');

    const timeout = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    const e3 = await failure(callerAccount(fakeAws({ sts: async () => Promise.reject(timeout) }), 'eu-west-1', env()));
    expect(e3.message).toMatch(/^Cannot reach the AWS endpoint sts\.eu-west-1\.amazonaws\.com \(TimeoutError\)/);
  });

  it.each(['InvalidClientTokenId', 'ExpiredToken', 'SignatureDoesNotMatch'])('%s: AwsCredentialsRejected', async (name) => {
    const err = await failure(callerAccount(fakeAws({ sts: async () => Promise.reject(awsError(name, 'The security token included in the request is invalid.', 403)) }), 'us-east-1', env()));
    expect(err.code).toBe('AwsCredentialsRejected');
    expect(err.message).toBe(`AWS rejected the credentials (${name}: The security token included in the request is invalid.). Refresh them ('aws sso login', new access keys, or a new session) and run again.`);
  });

  it('anything else passes through as is', async () => {
    const throttled = awsError('Throttling', 'Rate exceeded', 400);
    await expect(callerAccount(fakeAws({ sts: async () => Promise.reject(throttled) }), 'us-east-1', env())).rejects.toBe(throttled);
  });
});

describe('awsProfileExists', () => {
  it('reads [profile x] in the config file and [x] in the credentials file, at the paths the SDK reads', () => {
    const config = path.join(tmp, 'cfg');
    const creds = path.join(tmp, 'creds');
    writeFileSync(config, '[default]\n[profile prod]\n[not-a-profile]\n');
    writeFileSync(creds, '[  keys  ]\n');
    const e = env({ AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: creds });
    expect(awsProfileExists('prod', e)).toBe(true);
    expect(awsProfileExists('keys', e)).toBe(true);
    expect(awsProfileExists('default', e)).toBe(true);
    expect(awsProfileExists('not-a-profile', e)).toBe(false); // the SDK ignores config sections without "profile "
    expect(awsProfileExists('pro', e)).toBe(false);
    expect(awsProfileExists('prod', env())).toBe(false);
  });
});

describe('clusters', () => {
  it('lists every page with the SDK paginator', async () => {
    const seen: unknown[] = [];
    const aws = fakeAws({
      eks: async (c) => {
        expect(c).toBeInstanceOf(ListClustersCommand);
        const input = (c as ListClustersCommand).input;
        seen.push(input.nextToken);
        return input.nextToken === undefined ? { clusters: ['b', 'a'], nextToken: 't1' } : { clusters: ['c'] };
      },
    });
    await expect(listClusters(aws, 'eu-west-1')).resolves.toEqual(['b', 'a', 'c']);
    expect(seen).toEqual([undefined, 't1']);
    expect(aws.regions).toEqual(['eks:eu-west-1']);
  });

  it('describeCluster: the cluster, or undefined when it does not exist; other errors pass', async () => {
    const aws = fakeAws({
      eks: async (c) => {
        const name = (c as DescribeClusterCommand).input.name;
        if (name === 'ghost') throw awsError('ResourceNotFoundException', 'No cluster found for name: ghost.', 404);
        if (name === 'secret') throw awsError('AccessDeniedException', 'not allowed', 403);
        return { cluster: { name, status: 'ACTIVE' } };
      },
    });
    await expect(describeCluster(aws, 'us-east-1', 'prod')).resolves.toEqual({ name: 'prod', status: 'ACTIVE' });
    await expect(describeCluster(aws, 'us-east-1', 'ghost')).resolves.toBeUndefined();
    await expect(describeCluster(aws, 'us-east-1', 'secret')).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('auditLoggingEnabled: an enabled entry that has the audit type', () => {
    expect(auditLoggingEnabled({})).toBe(false);
    expect(auditLoggingEnabled({ logging: { clusterLogging: [{ types: ['audit'], enabled: false }, { types: ['api'], enabled: true }] } })).toBe(false);
    expect(auditLoggingEnabled({ logging: { clusterLogging: [{ types: ['api', 'audit'], enabled: true }] } })).toBe(true);
  });

  it('clusterSummaries: sorted, status and audit state; denied description -> name only; deleted meanwhile -> left out; bounded', async () => {
    let inFlight = 0;
    let most = 0;
    const names = Array.from({ length: 20 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    const aws = fakeAws({
      eks: async (c) => {
        if (c instanceof ListClustersCommand) return { clusters: [...names, 'gone', 'locked'].reverse() };
        const name = (c as DescribeClusterCommand).input.name!;
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        if (name === 'gone') throw awsError('ResourceNotFoundException', 'gone', 404);
        if (name === 'locked') throw awsError('AccessDeniedException', 'no', 403);
        const on = name === 'c01';
        return { cluster: { name, status: name === 'c02' ? 'CREATING' : 'ACTIVE', logging: { clusterLogging: [{ types: ['audit'], enabled: on }] } } };
      },
    });
    const list = await clusterSummaries(aws, 'us-east-1', { concurrency: 3 });
    expect(list.map((c) => c.name)).toEqual([...names, 'locked']);
    expect(list[1]).toEqual({ name: 'c01', status: 'ACTIVE', auditEnabled: true });
    expect(list[2]).toEqual({ name: 'c02', status: 'CREATING', auditEnabled: false });
    expect(list.at(-1)).toEqual({ name: 'locked' });
    expect(most).toBe(3);
  });

  it('clusterSummaries: a denied listing throws the SDK error for the caller to judge', async () => {
    const aws = fakeAws({ eks: async () => Promise.reject(awsError('AccessDeniedException', 'not allowed to list', 403)) });
    await expect(clusterSummaries(aws, 'us-east-1')).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

describe('bucketRegion (GetBucketLocation)', () => {
  it.each([
    [undefined, 'us-east-1'],
    [null, 'us-east-1'],
    ['', 'us-east-1'],
    ['EU', 'eu-west-1'],
    ['eu-central-1', 'eu-central-1'],
  ])('LocationConstraint %j -> %s', async (constraint, region) => {
    expect(regionOfLocationConstraint(constraint)).toBe(region);
    const aws = fakeAws({
      s3: async (c) => {
        expect(c).toBeInstanceOf(GetBucketLocationCommand);
        return { LocationConstraint: constraint };
      },
    });
    await expect(bucketRegion(aws, 'logs')).resolves.toBe(region);
    expect(aws.regions).toEqual(['s3:us-east-1']);
  });

  it('not-found, denied (another account: ExpectedBucketOwner), other errors pass', async () => {
    const inputs: unknown[] = [];
    const aws = fakeAws({
      s3: async (c) => {
        const input = (c as GetBucketLocationCommand).input;
        inputs.push(input);
        if (input.Bucket === 'ghost') throw awsError('NoSuchBucket', 'The specified bucket does not exist', 404);
        if (input.Bucket === 'theirs') throw awsError('AccessDenied', 'Access Denied', 403);
        throw awsError('InternalError', 'oops', 500);
      },
    });
    await expect(bucketRegion(aws, 'ghost')).resolves.toBe('not-found');
    await expect(bucketRegion(aws, 'theirs', '123456789012')).resolves.toBe('denied');
    await expect(bucketRegion(aws, 'broken')).rejects.toMatchObject({ name: 'InternalError' });
    expect(inputs[1]).toEqual({ Bucket: 'theirs', ExpectedBucketOwner: '123456789012' });
    expect(inputs[0]).toEqual({ Bucket: 'ghost' });
  });
});
