import { describe, expect, it } from 'vitest';
import { makeNames } from '../../../src/config/naming.js';
import {
  bucketPolicy,
  cloudwatchPolicy,
  cloudwatchTrust,
  crossAccountPolicy,
  crossAccountTrust,
  firehosePolicy,
  firehoseTrust,
  kmsKeyPolicy,
  regionsInCloudwatchTrust,
  samePolicy,
  topicPolicy,
} from '../../../src/provision/policies.js';

const n = makeNames('lw-eks-al', '1a2b3c4d', '123456789012', 'eu-central-1');

describe('policies (DESIGN §7)', () => {
  it('never grants a wildcard action, and Resource "*" only for iam:ListAccountAliases', () => {
    for (const doc of [crossAccountPolicy(n.bucketArn, n.topicArn), firehosePolicy(n.bucketArn, n), cloudwatchPolicy(n.streamArn)]) {
      for (const st of doc.Statement) {
        const actions = ([] as string[]).concat(st.Action as string | string[]);
        expect(actions.some((a) => a.includes('*'))).toBe(false);
        if (([] as string[]).concat(st.Resource as string | string[]).includes('*')) expect(actions).toEqual(['iam:ListAccountAliases']);
      }
    }
  });

  it('puts a confused-deputy condition on every service trust and the external ID on FortiCNAPP\'s', () => {
    expect(JSON.stringify(firehoseTrust(n))).toContain('aws:SourceAccount');
    expect(JSON.stringify(cloudwatchTrust(['us-east-1'], '123456789012'))).toContain('aws:SourceAccount');
    expect(crossAccountTrust('434813966438', 'lweid:aws:v2:acme:123456789012:abcdefghij').Statement[0]).toMatchObject({
      Principal: { AWS: 'arn:aws:iam::434813966438:role/lacework-platform' },
      Condition: { StringEquals: { 'sts:ExternalId': 'lweid:aws:v2:acme:123456789012:abcdefghij' } },
    });
  });

  it('lets Firehose write its error objects too (the reference policy denies them)', () => {
    const res = firehosePolicy(n.bucketArn, n).Statement[0]?.Resource as string[];
    expect(res).toContain(`${n.bucketArn}/${n.errorPrefix}*`);
  });

  it('round-trips the regions of a CloudWatch trust, sorted and unique', () => {
    const t = cloudwatchTrust(['us-east-1', 'eu-central-1', 'us-east-1'], '123456789012');
    expect(regionsInCloudwatchTrust(t)).toEqual(['eu-central-1', 'us-east-1']);
  });

  it('denies plain-HTTP access to the bucket and lets only S3 of this bucket publish to the topic', () => {
    expect(bucketPolicy(n.bucketArn).Statement[0]).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    const tp = topicPolicy(n.topicArn, n.bucket, '123456789012', '434813966438');
    expect(tp.Statement[1]).toMatchObject({ Condition: { StringEquals: { 'AWS:SourceAccount': '123456789012' } } });
  });

  it('names the Firehose role in the key policy and conditions the service statements', () => {
    const kp = kmsKeyPolicy(n, n.roleArn(n.firehoseRole), '434813966438');
    expect(JSON.stringify(kp)).toContain(n.roleArn(n.firehoseRole));
    expect(kp.Statement.find((s) => s.Sid === 'AllowS3AndSNSServices')).toMatchObject({ Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } });
  });

  it('compares policies regardless of key order', () => {
    expect(samePolicy({ a: 1, b: [{ c: 2, d: 3 }] }, { b: [{ d: 3, c: 2 }], a: 1 })).toBe(true);
    expect(samePolicy({ a: 1 }, { a: 2 })).toBe(false);
  });
});
