import { describe, expect, it } from 'vitest';
import {
  REGION_CLUSTERS_REQUIRED,
  answersFromOptions,
  checkAnswers,
  resolveFlags,
  resolveInputs,
  type SetupOptions,
} from '../../../src/config/resolve.js';
import { DEFAULTS } from '../../../src/config/inputs.js';

/** commander's defaults for the `--no-x` options: a run without flags looks like this. */
const NO_FLAGS: SetupOptions = { kms: true, bucketVersioning: true, enableAuditLogging: true, rollback: true, color: true };

describe('answersFromOptions: flags -> typed answers', () => {
  it('no flags, no answers: commander\'s --no-x defaults are not answers', () => {
    expect(answersFromOptions(NO_FLAGS)).toEqual({ answers: {}, problems: [] });
  });

  it('parses region clusters (merged per region), tags and lifecycle days; --no-x flags become their answer', () => {
    const { answers, problems } = answersFromOptions({
      ...NO_FLAGS,
      regionClusters: ['eu-central-1=prod', 'us-east-1=edge', 'eu-central-1=stage,prod'],
      tag: ['team=platform', 'env = prod'],
      bucketLifecycleDays: '30',
      kms: false,
      bucketVersioning: false,
      enableAuditLogging: false,
      prefix: 'acme',
    });
    expect(problems).toEqual([]);
    expect(answers).toEqual({
      regionClusters: { 'eu-central-1': ['prod', 'stage'], 'us-east-1': ['edge'] },
      tags: { team: 'platform', env: 'prod' },
      bucketLifecycleDays: 30,
      noKms: true,
      bucketVersioning: false,
      enableAuditLogging: false,
      prefix: 'acme',
    });
  });

  it('reports values that cannot become answers, and leaves them out', () => {
    const { answers, problems } = answersFromOptions({ regionClusters: ['nope', 'moon-1=a'], tag: ['x'], bucketLifecycleDays: 'ten' });
    expect(answers).toEqual({ tags: {} });
    expect(problems).toHaveLength(4);
  });
});

describe('resolveInputs: answers -> inputs', () => {
  it('fills the defaults; the first region is home unless given', () => {
    const r = resolveInputs({ regionClusters: { 'eu-central-1': ['prod'], 'us-east-1': ['edge'] } });
    expect(r.problems).toEqual([]);
    expect(r.homeRegionGiven).toBe(false);
    expect(r.inputs).toEqual({
      regionClusters: { 'eu-central-1': ['prod'], 'us-east-1': ['edge'] },
      homeRegion: 'eu-central-1',
      prefix: 'lw-eks-al',
      integrationName: undefined,
      tags: {},
      filterPattern: DEFAULTS.filterPattern,
      laceworkAwsAccountId: '434813966438',
      existingBucketArn: undefined,
      existingCaRoleArn: undefined,
      existingCaExternalId: undefined,
      existingFirehoseRoleArn: undefined,
      existingCwRoleArn: undefined,
      kmsKeyArn: undefined,
      noKms: false,
      bucketLifecycleDays: 180,
      bucketVersioning: true,
      sqsQueueArn: undefined,
      enableAuditLogging: true,
    });
    expect(resolveInputs({ regionClusters: { 'us-east-1': ['a'] }, homeRegion: 'eu-west-1' })).toMatchObject({ homeRegionGiven: true, inputs: { homeRegion: 'eu-west-1' } });
  });

  it('requires at least one region with clusters', () => {
    expect(resolveInputs({}).problems).toEqual([REGION_CLUSTERS_REQUIRED]);
  });

  it('checks every value and the cross-field rules, naming the flags', () => {
    const problems = checkAnswers({
      regionClusters: { 'us-east-1': ['ok', '-bad'] },
      homeRegion: 'mars-1',
      prefix: 'xn--eks',
      tags: { 'aws:x': '1' },
      existingBucketArn: 'arn:aws:s3:::my-logs',
      bucketLifecycleDays: 9999,
      existingCaRoleArn: 'arn:aws:iam::123456789012:role/ca',
      noKms: true,
      kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/abc',
      laceworkAwsAccountId: '12',
      integrationName: '',
    });
    expect(problems).toEqual([
      "--region-clusters: '-bad' is not a valid EKS cluster name (letters, digits, '-' and '_', starting with a letter or digit, at most 100).",
      "--home-region: 'mars-1' is not an AWS region name (expected something like eu-central-1).",
      "--prefix 'xn--eks' gives S3 bucket names S3 refuses ('xn--eks00000000' starts with 'xn--', which S3 reserves); choose another prefix.",
      "--tag 'aws:x=1': keys starting with 'aws:' are reserved by AWS.",
      "--bucket-lifecycle-days '9999' must be a whole number of days from 1 to 3650.",
      "--lacework-aws-account-id '12' must be a 12-digit AWS account id.",
      '--integration-name must be 1-128 characters.',
      "--existing-ca-role-arn needs --existing-ca-external-id: the external ID that role's trust policy requires.",
      '--no-kms and --kms-key-arn contradict each other; give one.',
      '--bucket-lifecycle-days and --no-bucket-versioning apply to a bucket the tool creates, not to --existing-bucket-arn.',
    ]);
  });
});

describe('resolveFlags: the non-interactive path in one call', () => {
  it('gives the same inputs as the two steps', () => {
    const opts: SetupOptions = { ...NO_FLAGS, regionClusters: ['us-east-1=prod'], kms: false, tag: ['a=b'] };
    expect(resolveFlags(opts)).toEqual(resolveInputs(answersFromOptions(opts).answers));
    expect(resolveFlags(opts).inputs).toMatchObject({ noKms: true, tags: { a: 'b' } });
  });

  it('collects every problem at once, without a second line for the same flag', () => {
    const r = resolveFlags({ regionClusters: ['nope'], prefix: 'BAD', tag: ['x'], kms: false, kmsKeyArn: 'arn:aws:kms:eu-central-1:123456789012:key/abc', existingCaExternalId: 'x' });
    expect(r.problems).toHaveLength(5);
    expect(r.problems).not.toContain(REGION_CLUSTERS_REQUIRED);
    expect(resolveFlags(NO_FLAGS).problems).toEqual([REGION_CLUSTERS_REQUIRED]);
  });
});
