import { describe, expect, it } from 'vitest';
import { normalizeArgv } from '../../../src/cli/argv.js';
import { resolveInputs } from '../../../src/wizard/resolve.js';

describe('flags -> inputs', () => {
  it('merges repeated --region-clusters, the first region is home by default', () => {
    const r = resolveInputs({ regionClusters: ['eu-central-1=prod', 'us-east-1=edge', 'eu-central-1=stage,prod'] });
    expect(r.problems).toEqual([]);
    expect(r.inputs.regionClusters).toEqual({ 'eu-central-1': ['prod', 'stage'], 'us-east-1': ['edge'] });
    expect(r.inputs.homeRegion).toBe('eu-central-1');
    expect(r.homeRegionGiven).toBe(false);
    expect(r.inputs).toMatchObject({ prefix: 'lw-eks-al', laceworkAwsAccountId: '434813966438', bucketLifecycleDays: 180, bucketVersioning: true, noKms: false, enableAuditLogging: true });
  });

  it('collects every problem at once', () => {
    const r = resolveInputs({ regionClusters: ['nope'], prefix: 'BAD', tag: ['x'], kms: false, kmsKeyArn: 'arn:aws:kms:eu-central-1:123456789012:key/abc', existingCaExternalId: 'x' });
    expect(r.problems).toHaveLength(5);
  });

  it('accepts the reference CLI spellings as aliases', () => {
    expect(normalizeArgv(['--region_clusters', 'us-east-1=a', '--api_key=K', '--noninteractive', '--custom_filter_pattern', 'p', '--', '--api_key'])).toEqual([
      '--region-clusters', 'us-east-1=a', '--api-key=K', '--non-interactive', '--filter-pattern', 'p', '--', '--api_key',
    ]);
  });
});
