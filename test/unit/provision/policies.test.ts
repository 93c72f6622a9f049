/**
 * Every policy document the tool writes (DESIGN §3 "Ownership", §7): trust documents with confused-deputy
 * conditions and the external ID, role policies that name the bucket only with `s3:ResourceAccount` = the
 * account, no wildcard action, the key and topic and bucket policies; reading IAM's URL-encoded documents;
 * and what a user's KMS key policy lacks for the pipeline (keyPolicyGaps).
 */
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
  keyPolicyGaps,
  kmsKeyPolicy,
  laceworkPrincipal,
  parsePolicy,
  regionsInCloudwatchTrust,
  samePolicy,
  topicPolicy,
  type PolicyDocument,
} from '../../../src/provision/policies.js';

const ACCOUNT = '123456789012';
const LW = '434813966438';
const EXTERNAL_ID = 'lweid:aws:v2:acme:123456789012:abcdefghij';
const n = makeNames('lw-eks-al', '1b3c2d59', ACCOUNT, 'eu-central-1');
const USER_KEY = `arn:aws:kms:eu-central-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

const list = (v: unknown): string[] => (v === undefined ? [] : ([] as string[]).concat(v as string | string[]));

/** Every role policy the tool writes, with and without a key of the user's. */
const rolePolicies = (): [string, PolicyDocument][] => [
  ['cross-account', crossAccountPolicy(n.bucketArn, n.topicArn, ACCOUNT)],
  ['cross-account with a user key', crossAccountPolicy(n.bucketArn, n.topicArn, ACCOUNT, USER_KEY)],
  ['firehose', firehosePolicy(n.bucketArn, n)],
  ['firehose with a user key', firehosePolicy(n.bucketArn, n, USER_KEY)],
  ['cloudwatch', cloudwatchPolicy(n.streamArn)],
];

describe('role policies', () => {
  it('never grant a wildcard action, and Resource "*" only for iam:ListAccountAliases', () => {
    for (const [name, doc] of rolePolicies()) {
      expect(doc.Version).toBe('2012-10-17');
      for (const st of doc.Statement) {
        const actions = list(st.Action);
        expect(actions.filter((a) => a.includes('*')), name).toEqual([]);
        if (list(st.Resource).includes('*')) expect(actions, name).toEqual(['iam:ListAccountAliases']);
      }
    }
  });

  it('name the bucket only with the condition s3:ResourceAccount = this account (a predictable name another account could take)', () => {
    let naming = 0;
    for (const [name, doc] of rolePolicies()) {
      for (const st of doc.Statement) {
        if (!list(st.Resource).some((r) => r.startsWith('arn:aws:s3:::'))) continue;
        naming++;
        expect(st.Condition, name).toEqual({ StringEquals: { 's3:ResourceAccount': ACCOUNT } });
      }
    }
    expect(naming).toBe(4);
  });

  it('cross-account: reads the objects, subscribes to the topic, reads the alias; decrypts only with a key of the user’s', () => {
    const doc = crossAccountPolicy(n.bucketArn, n.topicArn, ACCOUNT);
    expect(doc.Statement.map((s) => s.Sid)).toEqual(['S3Permissions', 'SNSPermissions', 'AccountAliasPermissions']);
    expect(doc.Statement[0]).toMatchObject({ Action: ['s3:GetObject'], Resource: [n.bucketArn, `${n.bucketArn}/*`] });
    expect(doc.Statement[1]).toMatchObject({ Action: ['sns:GetTopicAttributes', 'sns:Subscribe', 'sns:Unsubscribe'], Resource: n.topicArn });
    expect(crossAccountPolicy(n.bucketArn, n.topicArn, ACCOUNT, USER_KEY).Statement[3]).toEqual({ Sid: 'DecryptWithTheKey', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: USER_KEY });
  });

  it('firehose: writes objects under the delivery and the error prefix only (the reference policy denies error objects)', () => {
    const st = firehosePolicy(n.bucketArn, n).Statement;
    expect(st).toHaveLength(1);
    expect(st[0]).toMatchObject({ Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: [`${n.bucketArn}/${n.objectPrefix}*`, `${n.bucketArn}/${n.errorPrefix}*`] });
    expect(firehosePolicy(n.bucketArn, n, USER_KEY).Statement[1]).toMatchObject({ Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: USER_KEY });
  });

  it('cloudwatch: puts records into our stream only', () => {
    expect(cloudwatchPolicy(n.streamArn).Statement).toEqual([
      { Sid: 'PutAuditLogsIntoFirehose', Effect: 'Allow', Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'], Resource: n.streamArn },
    ]);
  });
});

describe('trust documents', () => {
  it('FortiCNAPP’s platform role may assume the cross-account role only with our external ID', () => {
    expect(crossAccountTrust(LW, EXTERNAL_ID).Statement).toEqual([
      {
        Sid: 'FortiCNAPPAssumeRole',
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { AWS: `arn:aws:iam::${LW}:role/lacework-platform` },
        Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID } },
      },
    ]);
    expect(laceworkPrincipal(LW)).toBe(`arn:aws:iam::${LW}:role/lacework-platform`);
  });

  it('Firehose may assume its role only for our stream in this account', () => {
    expect(firehoseTrust(n).Statement).toEqual([
      {
        Sid: 'FirehoseAssumeRole',
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'firehose.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnLike: { 'aws:SourceArn': n.streamArn } },
      },
    ]);
  });

  it('CloudWatch Logs of each region used may assume its role, for this account’s log groups; regions sorted and unique', () => {
    const t = cloudwatchTrust(['us-east-1', 'eu-central-1', 'us-east-1'], ACCOUNT);
    expect(t.Statement).toEqual([
      {
        Sid: 'CloudWatchLogsAssumeRole',
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: ['logs.eu-central-1.amazonaws.com', 'logs.us-east-1.amazonaws.com'] },
        Condition: {
          StringEquals: { 'aws:SourceAccount': ACCOUNT },
          ArnLike: { 'aws:SourceArn': [`arn:aws:logs:eu-central-1:${ACCOUNT}:*`, `arn:aws:logs:us-east-1:${ACCOUNT}:*`] },
        },
      },
    ]);
    expect(regionsInCloudwatchTrust(t)).toEqual(['eu-central-1', 'us-east-1']);
  });

  it('reads the regions of a CloudWatch trust written by hand (one service string, foreign principals ignored)', () => {
    expect(regionsInCloudwatchTrust({ Statement: [{ Principal: { Service: 'logs.ap-south-1.amazonaws.com' } }, { Principal: { Service: ['firehose.amazonaws.com'] } }, { Principal: { AWS: '*' } }] })).toEqual(['ap-south-1']);
    expect(regionsInCloudwatchTrust(undefined)).toEqual([]);
  });
});

describe('resource policies', () => {
  it('the key policy: the account root, the Firehose role, S3 and SNS of this account, FortiCNAPP, and decrypt for the account', () => {
    const kp = kmsKeyPolicy(n, n.roleArn(n.firehoseRole), LW);
    expect(kp.Statement.map((s) => s.Sid)).toEqual(['EnableAccountRoot', 'AllowFirehoseRole', 'AllowS3AndSNSServices', 'AllowFortiCNAPP', 'AllowAccountPrincipalsToDecrypt']);
    expect(kp.Statement[0]).toMatchObject({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*' });
    expect(kp.Statement[1]).toMatchObject({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/lw-eks-al-fh-1b3c2d59` } });
    expect(kp.Statement[2]).toMatchObject({ Principal: { Service: ['s3.amazonaws.com', 'sns.amazonaws.com'] }, Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } } });
    expect(kp.Statement[3]).toMatchObject({ Principal: { AWS: laceworkPrincipal(LW) }, Action: ['kms:Decrypt', 'kms:DescribeKey'] });
    expect(kp.Statement[4]).toMatchObject({ Principal: { AWS: '*' }, Condition: { StringEquals: { 'kms:CallerAccount': ACCOUNT } } });
  });

  it('the topic policy: FortiCNAPP may subscribe, only S3 of this bucket in this account may publish', () => {
    const tp = topicPolicy(n.topicArn, n.bucket, ACCOUNT, LW);
    expect(tp.Statement[0]).toMatchObject({ Principal: { AWS: laceworkPrincipal(LW) }, Action: 'sns:Subscribe', Resource: n.topicArn });
    expect(tp.Statement[1]).toMatchObject({
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'sns:Publish',
      Condition: { StringEquals: { 'AWS:SourceAccount': ACCOUNT }, ArnLike: { 'AWS:SourceArn': `arn:aws:s3:*:*:${n.bucket}` } },
    });
  });

  it('the bucket policy refuses every request without TLS', () => {
    expect(bucketPolicy(n.bucketArn).Statement).toEqual([
      { Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [n.bucketArn, `${n.bucketArn}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    ]);
  });
});

describe('reading documents back', () => {
  it('compares policies regardless of key order', () => {
    expect(samePolicy({ a: 1, b: [{ c: 2, d: 3 }] }, { b: [{ d: 3, c: 2 }], a: 1 })).toBe(true);
    expect(samePolicy({ a: 1 }, { a: 2 })).toBe(false);
    expect(samePolicy(crossAccountTrust(LW, EXTERNAL_ID), JSON.parse(JSON.stringify(crossAccountTrust(LW, EXTERNAL_ID))))).toBe(true);
  });

  it('parses IAM’s URL-encoded documents as well as plain JSON; nothing or garbage is undefined', () => {
    const doc = crossAccountTrust(LW, EXTERNAL_ID);
    expect(parsePolicy(encodeURIComponent(JSON.stringify(doc)))).toEqual(doc);
    expect(parsePolicy(encodeURIComponent(JSON.stringify(doc)).replace(/%7B/g, '%7b'))).toEqual(doc);
    expect(parsePolicy(JSON.stringify(doc))).toEqual(doc);
    expect(parsePolicy(undefined)).toBeUndefined();
    expect(parsePolicy('')).toBeUndefined();
    expect(parsePolicy('{not json')).toBeUndefined();
  });
});

describe('keyPolicyGaps (a KMS key of the user’s, --kms-key-arn)', () => {
  const root = `arn:aws:iam::${ACCOUNT}:root`;
  const roles = [n.roleArn(n.firehoseRole), n.roleArn(n.caRole)];
  /** The policy AWS gives a key made without one. */
  const awsDefault = { Version: '2012-10-17', Id: 'key-default-1', Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: root }, Action: 'kms:*', Resource: '*' }] };
  const services = { Sid: 'S', Effect: 'Allow', Principal: { Service: ['s3.amazonaws.com', 'sns.amazonaws.com'] }, Action: ['kms:GenerateDataKey*', 'kms:Decrypt'], Resource: '*' };

  it('the AWS default policy: IAM policies work (roles need nothing); S3 and SNS must be added, conditioned on this account', () => {
    expect(keyPolicyGaps(awsDefault, ACCOUNT, roles)).toEqual([
      {
        Sid: 'AllowS3AndSNSForEksAuditLogs',
        Effect: 'Allow',
        Principal: { Service: ['s3.amazonaws.com', 'sns.amazonaws.com'] },
        Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
      },
    ]);
  });

  it('nothing is missing from the policy setup writes for its own key', () => {
    expect(keyPolicyGaps(kmsKeyPolicy(n, roles[0] as string, LW), ACCOUNT, roles)).toEqual([]);
  });

  it('asks only for the service that is missing', () => {
    const onlyS3 = { Statement: [awsDefault.Statement[0], { ...services, Principal: { Service: 's3.amazonaws.com' } }] };
    expect(keyPolicyGaps(onlyS3, ACCOUNT, roles)).toMatchObject([{ Principal: { Service: ['sns.amazonaws.com'] } }]);
  });

  it('counts the account id as the root principal, a lone statement object as a list, and wildcards in actions', () => {
    const lone = { Statement: { Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: ['kms:*'], Resource: '*' } };
    expect(keyPolicyGaps(lone, ACCOUNT, roles).map((g) => g.Sid)).toEqual(['AllowS3AndSNSForEksAuditLogs']);
    const star = { Statement: [{ Effect: 'Allow', Principal: { AWS: root }, Action: 'kms:*' }, { ...services, Action: 'kms:*' }] };
    expect(keyPolicyGaps(star, ACCOUNT, roles)).toEqual([]);
  });

  it('without the account root enabled, names the roles that cannot use the key', () => {
    const firehoseOnly = { Statement: [services, { Effect: 'Allow', Principal: { AWS: [roles[0]] }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*' }] };
    expect(keyPolicyGaps(firehoseOnly, ACCOUNT, roles)).toEqual([
      {
        Sid: 'AllowForticnappEksAuditRoles',
        Effect: 'Allow',
        Principal: { AWS: [roles[1]] },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*', 'kms:DescribeKey', 'kms:CreateGrant'],
        Resource: '*',
      },
    ]);
    // The root allowed only some actions does not enable IAM policies.
    const partialRoot = { Statement: [services, { Effect: 'Allow', Principal: { AWS: root }, Action: ['kms:Decrypt'], Resource: '*' }] };
    expect(keyPolicyGaps(partialRoot, ACCOUNT, roles)[0]).toMatchObject({ Principal: { AWS: roles } });
  });

  it('does not count a Deny, a statement for another account, or a missing policy as allowing', () => {
    const deny = { Statement: [{ Effect: 'Deny', Principal: { AWS: root }, Action: 'kms:*' }, { ...services, Effect: 'Deny' }] };
    expect(keyPolicyGaps(deny, ACCOUNT, roles).map((g) => g.Sid)).toEqual(['AllowForticnappEksAuditRoles', 'AllowS3AndSNSForEksAuditLogs']);
    const other = { Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 'kms:*' }] };
    expect(keyPolicyGaps(other, ACCOUNT, roles)).toHaveLength(2);
    expect(keyPolicyGaps(undefined, ACCOUNT, roles)).toHaveLength(2);
  });

  it('counts Principal "*" as everyone (conditions are not evaluated)', () => {
    expect(keyPolicyGaps({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 'kms:*', Condition: { StringEquals: { 'kms:CallerAccount': ACCOUNT } } }] }, ACCOUNT, roles)).toEqual([]);
  });
});
