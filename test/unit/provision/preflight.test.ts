/**
 * Preflight (DESIGN §2 "Bad input never reaches AWS"): what the inputs bring of their own. The trust check
 * is pure; the rest runs on fake SDK clients (real client objects whose `send` answers from a script), each
 * problem one line that says what to do.
 */
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetBucketLocationCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../src/aws/clients.js';
import type { Inputs } from '../../../src/config/inputs.js';
import { makeNames } from '../../../src/config/naming.js';
import { crossAccountTrust, kmsKeyPolicy, laceworkPrincipal } from '../../../src/provision/policies.js';
import { preflight, trustsWithExternalId } from '../../../src/provision/preflight.js';
import { baseInputs } from './fake-types.js';

const ACCOUNT = '123456789012';
const LW = '434813966438';
const PRINCIPAL = laceworkPrincipal(LW);
const EXTERNAL_ID = 'lweid:aws:v2:acme:123456789012:abcdefghij';

describe('trustsWithExternalId', () => {
  it('accepts the trust setup writes', () => {
    expect(trustsWithExternalId(crossAccountTrust(LW, EXTERNAL_ID), PRINCIPAL, EXTERNAL_ID)).toEqual({ principal: true, externalId: true });
  });

  it('tells a wrong external ID from a missing principal', () => {
    expect(trustsWithExternalId(crossAccountTrust(LW, 'other'), PRINCIPAL, EXTERNAL_ID)).toEqual({ principal: true, externalId: false });
    expect(trustsWithExternalId(crossAccountTrust('999999999999', EXTERNAL_ID), PRINCIPAL, EXTERNAL_ID)).toEqual({ principal: false, externalId: false });
  });

  it('counts the account root and the bare account id of the principal’s account, lists and a lone statement', () => {
    for (const AWS of [`arn:aws:iam::${LW}:root`, LW, [`arn:aws:iam::1:role/x`, PRINCIPAL]]) {
      const trust = { Statement: { Effect: 'Allow', Action: ['sts:AssumeRole'], Principal: { AWS }, Condition: { StringEquals: { 'sts:ExternalId': [EXTERNAL_ID, 'old'] } } } };
      expect(trustsWithExternalId(trust, PRINCIPAL, EXTERNAL_ID), JSON.stringify(AWS)).toEqual({ principal: true, externalId: true });
    }
  });

  it('reads the external ID under any condition operator, and accepts sts:* and * as actions', () => {
    for (const Action of ['sts:*', '*', 'sts:AssumeRole']) {
      const trust = { Statement: [{ Effect: 'Allow', Action, Principal: { AWS: PRINCIPAL }, Condition: { StringLike: { 'sts:ExternalId': EXTERNAL_ID } } }] };
      expect(trustsWithExternalId(trust, PRINCIPAL, EXTERNAL_ID)).toEqual({ principal: true, externalId: true });
    }
  });

  it('ignores Deny statements, other actions, other principals’ external IDs, and nothing at all', () => {
    const trust = {
      Statement: [
        { Effect: 'Deny', Action: 'sts:AssumeRole', Principal: { AWS: PRINCIPAL }, Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID } } },
        { Effect: 'Allow', Action: 'sts:TagSession', Principal: { AWS: PRINCIPAL }, Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID } } },
        { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID } } },
        { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'firehose.amazonaws.com' } },
      ],
    };
    expect(trustsWithExternalId(trust, PRINCIPAL, EXTERNAL_ID)).toEqual({ principal: false, externalId: false });
    expect(trustsWithExternalId(undefined, PRINCIPAL, EXTERNAL_ID)).toEqual({ principal: false, externalId: false });
    // Allowed without any external ID condition: the principal is there, the ID is not.
    expect(trustsWithExternalId({ Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: PRINCIPAL } }] }, PRINCIPAL, EXTERNAL_ID)).toEqual({ principal: true, externalId: false });
  });
});

type Send = (command: unknown) => Promise<unknown>;
const client = <T extends object>(Ctor: { prototype: T }, send: Send): T => Object.assign(Object.create(Ctor.prototype) as T, { send });
const awsError = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const refuse: Send = async (c) => {
  throw new Error(`unexpected ${(c as object).constructor.name}`);
};

function fakeAws(parts: { s3?: Send; iam?: Send; kms?: Send }): AwsClients {
  return {
    s3: async () => client(S3Client, parts.s3 ?? refuse),
    iam: async () => client(IAMClient, parts.iam ?? refuse),
    kms: async () => client(KMSClient, parts.kms ?? refuse),
  } as unknown as AwsClients;
}

const names = makeNames('lw-eks-al', '1b3c2d59', ACCOUNT, 'eu-central-1');
const inputs = (over: Partial<Inputs>) => baseInputs({ homeRegion: 'eu-central-1', ...over });
const KEY = `arn:aws:kms:eu-central-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

describe('preflight', () => {
  it('has nothing to check, and calls nothing, when the inputs bring nothing of their own', async () => {
    expect(await preflight(fakeAws({}), inputs({}), names)).toEqual([]);
  });

  it('an existing bucket: this account’s, in the home region', async () => {
    const at = (answer: () => Promise<unknown>) =>
      fakeAws({
        s3: async (c) => {
          expect(c).toBeInstanceOf(GetBucketLocationCommand);
          expect((c as GetBucketLocationCommand).input).toEqual({ Bucket: 'theirs', ExpectedBucketOwner: ACCOUNT });
          return answer();
        },
      });
    const given = inputs({ existingBucketArn: 'arn:aws:s3:::theirs' });
    expect(await preflight(at(async () => ({ LocationConstraint: 'eu-central-1' })), given, names)).toEqual([]);
    expect(await preflight(at(async () => ({ LocationConstraint: 'EU' })), given, names)).toEqual([expect.stringMatching(/is in eu-west-1, but the home region is eu-central-1.*--home-region eu-west-1/)]);
    expect(await preflight(at(async () => Promise.reject(awsError('NoSuchBucket', 404))), given, names)).toEqual([expect.stringMatching(/bucket theirs does not exist/)]);
    expect(await preflight(at(async () => Promise.reject(awsError('AccessDenied', 403))), given, names)).toEqual([expect.stringMatching(/belongs to another AWS account.*account 123456789012/)]);
  });

  it('an existing cross-account role: it exists, FortiCNAPP may assume it, with the external ID given', async () => {
    const arn = `arn:aws:iam::${ACCOUNT}:role/their-ca`;
    const roleWith = (trust: unknown, roleArn = arn) =>
      fakeAws({
        iam: async (c) => {
          expect((c as GetRoleCommand).input).toEqual({ RoleName: 'their-ca' });
          return { Role: { Arn: roleArn, AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(trust)) } };
        },
      });
    const given = inputs({ existingCaRoleArn: arn, existingCaExternalId: EXTERNAL_ID });
    expect(await preflight(roleWith(crossAccountTrust(LW, EXTERNAL_ID)), given, names)).toEqual([]);
    expect(await preflight(roleWith(crossAccountTrust(LW, 'another')), given, names)).toEqual([expect.stringMatching(/^--existing-ca-external-id does not match/)]);
    expect(await preflight(roleWith(crossAccountTrust('999999999999', EXTERNAL_ID)), given, names)).toEqual([expect.stringMatching(/does not let FortiCNAPP \(arn:aws:iam::434813966438:role\/lacework-platform\) assume it/)]);
    expect(await preflight(roleWith(crossAccountTrust(LW, EXTERNAL_ID), `arn:aws:iam::${ACCOUNT}:role/path/their-ca`), given, names)).toEqual([expect.stringMatching(/this account's role of that name is .*path\/their-ca; pass that ARN/)]);
    const missing = fakeAws({ iam: async () => Promise.reject(awsError('NoSuchEntity', 404)) });
    expect(await preflight(missing, given, names)).toEqual([expect.stringMatching(/no such role in this account/)]);
    const denied = fakeAws({ iam: async () => Promise.reject(awsError('AccessDenied', 403)) });
    expect(await preflight(denied, inputs({ existingFirehoseRoleArn: `arn:aws:iam::${ACCOUNT}:role/fh` }), names)).toEqual([expect.stringMatching(/^--existing-firehose-role-arn .*could not read the role/)]);
  });

  it('a key of the user’s: in the home region, this account’s, enabled, symmetric, and its policy lets the pipeline use it', async () => {
    expect(await preflight(fakeAws({}), inputs({ kmsKeyArn: KEY.replace('eu-central-1', 'us-east-1') }), names)).toEqual([expect.stringMatching(/the key is in us-east-1.*use a key of eu-central-1/)]);
    expect(await preflight(fakeAws({}), inputs({ kmsKeyArn: KEY.replace(ACCOUNT, '999999999999') }), names)).toEqual([expect.stringMatching(/belongs to account 999999999999/)]);
    expect(await preflight(fakeAws({}), inputs({ kmsKeyArn: KEY, noKms: true }), names)).toEqual([]);

    const key = (meta: Record<string, unknown>, policy: unknown) =>
      fakeAws({
        kms: async (c) => {
          if (c instanceof DescribeKeyCommand) return { KeyMetadata: { KeyId: 'k', ...meta } };
          if (c instanceof GetKeyPolicyCommand) return { Policy: JSON.stringify(policy) };
          return refuse(c);
        },
      });
    const good = kmsKeyPolicy(names, names.roleArn(names.firehoseRole), LW);
    const given = inputs({ kmsKeyArn: KEY });
    expect(await preflight(key({ KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT' }, good), given, names)).toEqual([]);
    expect(await preflight(key({ KeyState: 'PendingDeletion' }, good), given, names)).toEqual(['--kms-key-arn: the key is PendingDeletion; use an enabled key.']);
    expect(await preflight(key({ KeyState: 'Enabled', KeySpec: 'RSA_2048' }, good), given, names)).toEqual([expect.stringMatching(/RSA_2048; S3, SNS and Firehose need a symmetric/)]);
    const [gap] = await preflight(key({ KeyState: 'Enabled' }, { Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*' }] }), given, names);
    expect(gap).toMatch(/^--kms-key-arn: the key policy does not let the pipeline use the key .* add these statements .*AllowS3AndSNSForEksAuditLogs/);
    expect(await preflight(fakeAws({ kms: async () => Promise.reject(awsError('NotFoundException', 400)) }), given, names)).toEqual(['--kms-key-arn: no such key; check the ARN.']);
  });

  it('reports every problem at once', async () => {
    const aws = fakeAws({ s3: async () => Promise.reject(awsError('NoSuchBucket', 404)), iam: async () => Promise.reject(awsError('NoSuchEntity', 404)) });
    const problems = await preflight(
      aws,
      inputs({ existingBucketArn: 'arn:aws:s3:::theirs', existingCwRoleArn: `arn:aws:iam::${ACCOUNT}:role/cw`, kmsKeyArn: KEY.replace(ACCOUNT, '999999999999') }),
      names,
    );
    expect(problems).toHaveLength(3);
  });
});
