import { describe, expect, it } from 'vitest';
import {
  MAX_PREFIX_LENGTH,
  bucketNameProblem,
  checkArn,
  checkClusterName,
  checkLifecycleDays,
  checkPrefix,
  checkRegion,
  envFlag,
  parseRegionClusters,
  parseTag,
  splitClusters,
} from '../../../src/config/validate.js';

describe('region and cluster validation', () => {
  it('accepts commercial regions and rejects malformed, unknown, GovCloud and China ones', () => {
    expect(checkRegion('eu-central-1')).toBeUndefined();
    expect(checkRegion('us-west-2')).toBeUndefined();
    expect(checkRegion('xus-east-1yy')).toMatch(/not an AWS region name/);
    expect(checkRegion('eu-centrl-1')).toMatch(/did you mean eu-central-1\?/);
    expect(checkRegion('us-gov-west-1')).toMatch(/GovCloud or China/);
    expect(checkRegion('cn-north-1')).toMatch(/GovCloud or China/);
    expect(checkRegion('zz-middle-7')).toMatch(/Unknown AWS region/);
  });

  it('trims cluster lists, drops empties and duplicates (the reference keeps " b")', () => {
    expect(splitClusters('a, b ,,a')).toEqual(['a', 'b']);
    expect(parseRegionClusters('"us-west-1=c1, c2"')).toEqual({ region: 'us-west-1', clusters: ['c1', 'c2'], problems: [] });
  });

  it('reports every problem of a --region-clusters value', () => {
    expect(parseRegionClusters('us-east-1').problems[0]).toMatch(/must look like <region>=<cluster1,cluster2>/);
    expect(parseRegionClusters('us-east-1=').problems[0]).toMatch(/names no cluster/);
    const p = parseRegionClusters('moon-1=ok,-bad').problems;
    expect(p).toHaveLength(2);
    expect(checkClusterName('x'.repeat(101))).toMatch(/at most 100/);
    expect(checkClusterName('prod_eks-1')).toBeUndefined();
  });
});

describe('other inputs', () => {
  it('checks ARNs by kind', () => {
    expect(checkArn('s3-bucket', 'arn:aws:s3:::my-bucket', '--x')).toBeUndefined();
    expect(checkArn('iam-role', 'arn:aws:iam::123456789012:role/path/r', '--x')).toBeUndefined();
    expect(checkArn('iam-role', 'arn:aws:iam::123:role/r', '--x')).toMatch(/not an IAM role ARN/);
    expect(checkArn('kms-key', 'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab', '--x')).toBeUndefined();
    expect(checkArn('sqs-queue', 'arn:aws:sqs:eu-central-1:123456789012:q', '--x')).toBeUndefined();
  });

  it('keeps the prefix short enough for bucket and role names', () => {
    expect(checkPrefix('lw-eks-al')).toBeUndefined();
    expect(checkPrefix('Upper')).toBeTruthy();
    expect(MAX_PREFIX_LENGTH).toBe(52); // <prefix>-ca-<8 hex> is at most 64
    expect(checkPrefix('a'.repeat(52))).toBeUndefined();
    expect(checkPrefix('a'.repeat(53))).toMatch(/must be 1-52 lower-case letters/);
    expect(checkPrefix('')).toBeTruthy();
    expect(checkPrefix('-lead')).toBeTruthy();
    expect(checkPrefix('has.dot')).toBeTruthy(); // SNS topic and KMS alias names take no dots
  });

  it('bounds lifecycle days and parses tags', () => {
    expect(checkLifecycleDays('180')).toBeUndefined();
    expect(checkLifecycleDays('0')).toBeTruthy();
    expect(checkLifecycleDays('1.5')).toBeTruthy();
    expect(parseTag('team=platform')).toEqual({ key: 'team', value: 'platform' });
    expect(parseTag('aws:x=1').problem).toMatch(/reserved/);
    expect(parseTag('forticnapp-eks-audit:deployment=1').problem).toMatch(/set by this tool/);
    expect(parseTag('novalue').problem).toMatch(/key=value/);
  });
});

describe('S3 bucket naming rules (issue 11 item 5)', () => {
  it('accepts ordinary names, the 3 and 63 character limits included', () => {
    for (const ok of ['abc', 'my-logs', 'my.logs.2026', 'a'.repeat(63), 'lw-eks-al0a1b2c3d', '1-2-3']) expect(bucketNameProblem(ok), ok).toBeUndefined();
  });

  it.each([
    ['ab', /3-63 characters/],
    ['a'.repeat(64), /3-63 characters/],
    ['My-Logs', /characters other than/],
    ['my_logs', /characters other than/],
    ['-logs', /begin and end with a letter or digit/],
    ['logs-', /begin and end with a letter or digit/],
    ['logs.', /begin and end/],
    ['my..logs', /two adjacent dots/],
    ['my.-logs', /dot next to a hyphen/],
    ['my-.logs', /dot next to a hyphen/],
    ['192.168.5.4', /IP address/],
    ['xn--eks0a1b2c3d', /starts with 'xn--'/],
    ['sthree-logs', /starts with 'sthree-'/],
    ['sthree-configurator', /starts with 'sthree-'/],
    ['amzn-s3-demo-bucket', /starts with 'amzn-s3-demo-'/],
    ['logs-s3alias', /ends with '-s3alias'/],
    ['logs--ol-s3', /ends with '--ol-s3'/],
    ['logs.mrap', /ends with '.mrap'/],
    ['logs--usw2-az1--x-s3', /ends with '--x-s3'/],
    ['logs--table-s3', /ends with '--table-s3'/],
  ])('refuses %s', (name, why) => {
    expect(bucketNameProblem(name)).toMatch(why);
  });

  it('the prefix is checked so that <prefix><8 hex> is always a valid bucket name', () => {
    expect(checkPrefix('xn--eks')).toMatch(/^--prefix 'xn--eks' gives S3 bucket names S3 refuses \('xn--eks00000000' starts with 'xn--', which S3 reserves\); choose another prefix\.$/);
    expect(checkPrefix('sthree-x')).toMatch(/sthree-/);
    expect(checkPrefix('amzn-s3-demo-')).toMatch(/amzn-s3-demo-/);
    // Near misses are fine: hex digits can never complete a reserved prefix.
    for (const ok of ['xn-', 'xn', 'sthree', 'amzn-s3-demo', 'x']) expect(checkPrefix(ok), ok).toBeUndefined();
    // Whatever the id, a valid prefix gives a valid bucket name.
    for (const prefix of ['lw-eks-al', 'a', 'a'.repeat(52), 'xn-', 'ends-with-dash-']) {
      for (const id of ['00000000', 'ffffffff', '0a1b2c3d']) expect(bucketNameProblem(`${prefix}${id}`), prefix + id).toBeUndefined();
    }
  });

  it('--existing-bucket-arn names follow the same rules', () => {
    expect(checkArn('s3-bucket', 'arn:aws:s3:::my-logs/', '--existing-bucket-arn')).toBeUndefined();
    expect(checkArn('s3-bucket', 'arn:aws:s3:::xn--logs', '--existing-bucket-arn')).toBe(
      "--existing-bucket-arn 'arn:aws:s3:::xn--logs' names no valid S3 bucket: 'xn--logs' starts with 'xn--', which S3 reserves.",
    );
    expect(checkArn('s3-bucket', 'arn:aws:s3:::my..logs', '--existing-bucket-arn')).toMatch(/two adjacent dots/);
    expect(checkArn('s3-bucket', 'arn:aws:s3:::10.0.0.1', '--existing-bucket-arn')).toMatch(/IP address/);
    expect(checkArn('s3-bucket', 'arn:aws:s3:::Logs', '--existing-bucket-arn')).toMatch(/is not an S3 bucket ARN/);
  });
});

describe('envFlag: one rule for boolean environment variables', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['  ', false],
    ['0', false],
    ['false', false],
    ['FALSE', false],
    ['no', false],
    ['No', false],
    ['off', false],
    ['1', true],
    ['true', true],
    ['True', true],
    ['yes', true],
    ['YES', true],
    [' 1 ', true],
    ['anything', true],
  ])('%j -> %j', (value, on) => {
    expect(envFlag(value === undefined ? {} : { LW_NONINTERACTIVE: value }, 'LW_NONINTERACTIVE')).toBe(on);
  });
});
