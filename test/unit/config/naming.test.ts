import { describe, expect, it } from 'vitest';
import { bucketNameFromArn, deploymentIdFor, makeNames, newExternalId } from '../../../src/config/naming.js';

describe('names', () => {
  it('follows the reference module, from prefix and deployment id', () => {
    const n = makeNames('lw-eks-al', '1a2b3c4d', '123456789012', 'eu-central-1');
    expect(n.bucket).toBe('lw-eks-al1a2b3c4d');
    expect(n.topic).toBe('lw-eks-al1a2b3c4d');
    expect(n.stream).toBe('lw-eks-al1a2b3c4d');
    expect(n.caRole).toBe('lw-eks-al-ca-1a2b3c4d');
    expect(n.firehoseRole).toBe('lw-eks-al-fh-1a2b3c4d');
    expect(n.cloudwatchRole).toBe('lw-eks-al-cw-1a2b3c4d');
    expect(n.kmsAlias).toBe('alias/lw-eks-al-key-1a2b3c4d');
    // No double dash (the reference CLI's multi-region names have one).
    expect(n.filter('prod')).toBe('lw-eks-al-prod-eks-cw-1a2b3c4d');
    expect(n.logGroup('prod')).toBe('/aws/eks/prod/cluster');
    expect(n.objectPrefix).toBe('eks_audit_logs/123456789012/');
    expect(n.streamArn).toBe('arn:aws:firehose:eu-central-1:123456789012:deliverystream/lw-eks-al1a2b3c4d');
    expect(n.topicArn).toBe('arn:aws:sns:eu-central-1:123456789012:lw-eks-al1a2b3c4d');
    expect(n.errorPrefix.startsWith(n.objectPrefix)).toBe(false);
  });

  it('derives the deployment id from (account, prefix): the first 8 hex of SHA-256 over "<account>:<prefix>" (DESIGN §4)', () => {
    expect(deploymentIdFor('123456789012', 'lw-eks-al')).toBe('1b3c2d59');
    expect(deploymentIdFor('123456789012', 'lw-eks-al')).toBe(deploymentIdFor('123456789012', 'lw-eks-al'));
    expect(deploymentIdFor('123456789012', 'acme')).toBe('03fd8bbb');
    expect(deploymentIdFor('210987654321', 'lw-eks-al')).not.toBe('1b3c2d59');
  });

  it('makes v2 external ids from a CSPRNG', () => {
    const ids = new Set(Array.from({ length: 50 }, () => newExternalId('acme', '123456789012')));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^lweid:aws:v2:acme:123456789012:[=,.@:/\-a-zA-Z0-9]{10}$/);
  });

  it('reads a bucket name out of its ARN', () => {
    expect(bucketNameFromArn('arn:aws:s3:::my-bucket/')).toBe('my-bucket');
  });
});
