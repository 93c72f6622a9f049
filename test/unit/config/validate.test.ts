import { describe, expect, it } from 'vitest';
import { checkArn, checkClusterName, checkLifecycleDays, checkPrefix, checkRegion, parseRegionClusters, parseTag, splitClusters } from '../../../src/config/validate.js';

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
    expect(checkPrefix('a'.repeat(41))).toBeTruthy();
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
