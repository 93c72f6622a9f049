/**
 * Preflight: what the inputs name that the deployment does not own (DESIGN §2 "Bad input never reaches
 * AWS"): an existing bucket, roles, a KMS key of the user's. Read-only; every problem is one line that says
 * what to do. The deployment's own resources are checked by their modules (`conflicts`), in the plan.
 */
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { DescribeKeyCommand, GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import type { AwsClients } from '../aws/clients.js';
import { describeAwsError, isNotFound } from '../aws/errors.js';
import { iamNeeds, type IamNeed } from '../aws/iam.js';
import { bucketRegion } from '../aws/lookups.js';
import type { Inputs } from '../config/inputs.js';
import { bucketNameFromArn, pipelineArns, type Names } from '../config/naming.js';
import { keyPolicyGaps, laceworkPrincipal, list, parsePolicy, statementsOf } from './policies.js';

export const PREFLIGHT_IAM: IamNeed[] = iamNeeds('any', `
  GetBucketLocationCommand  s3:GetBucketLocation @bucket | an existing bucket is this account’s and in the home region
  GetRoleCommand            iam:GetRole                  | an existing role exists; its trust (external ID)
  DescribeKeyCommand        kms:DescribeKey              | a key of yours exists, is enabled, in the home region
  GetKeyPolicyCommand       kms:GetKeyPolicy             | a key of yours lets the pipeline use it
`);

/** Whether a trust policy lets `principal` assume the role with exactly this external ID. */
export function trustsWithExternalId(trust: unknown, principal: string, externalId: string): { principal: boolean; externalId: boolean } {
  const account = principal.split(':')[4] ?? '';
  const allowing = statementsOf(trust).filter(
    (s) =>
      s.Effect === 'Allow' &&
      list(s.Action).some((a) => a === 'sts:AssumeRole' || a === 'sts:*' || a === '*') &&
      typeof s.Principal === 'object' &&
      list(s.Principal.AWS).some((p) => p === principal || p === `arn:aws:iam::${account}:root` || p === account),
  );
  const ids = allowing.flatMap((s) => Object.values(s.Condition ?? {}).flatMap((c) => list(c['sts:ExternalId'])));
  return { principal: allowing.length > 0, externalId: ids.includes(externalId) };
}

async function roleProblems(aws: AwsClients, arn: string, flag: string, check?: (trust: unknown) => string | undefined): Promise<string[]> {
  const iam = await aws.iam();
  try {
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: arn.split('/').pop() ?? '' }));
    if (Role?.Arn && Role.Arn !== arn) return [`${flag} ${arn}: this account's role of that name is ${Role.Arn}; pass that ARN.`];
    const p = check?.(parsePolicy(Role?.AssumeRolePolicyDocument));
    return p ? [p] : [];
  } catch (err) {
    if (isNotFound(err)) return [`${flag} ${arn}: no such role in this account; check the ARN.`];
    return [`${flag} ${arn}: could not read the role (${describeAwsError(err)}).`];
  }
}

/**
 * Checks what the inputs bring of their own. Read-only.
 * @returns the problems, each one line that says what to do (empty when all is well).
 */
export async function preflight(aws: AwsClients, inputs: Inputs, names: Names): Promise<string[]> {
  const home = names.homeRegion;
  const checks: Promise<string[]>[] = [];

  if (inputs.existingBucketArn) {
    const bucket = bucketNameFromArn(inputs.existingBucketArn);
    checks.push(
      (async () => {
        const where = await bucketRegion(aws, bucket, names.accountId);
        if (where === 'not-found') return [`--existing-bucket-arn: bucket ${bucket} does not exist; check the ARN.`];
        if (where === 'denied') return [`--existing-bucket-arn: bucket ${bucket} belongs to another AWS account (or denies you access); use a bucket of account ${names.accountId}.`];
        if (where !== home) {
          return [`--existing-bucket-arn: bucket ${bucket} is in ${where}, but the home region is ${home}; S3 notifies only an SNS topic in its own region, so pass --home-region ${where}.`];
        }
        return [];
      })(),
    );
  }
  if (inputs.existingCaRoleArn) {
    const principal = laceworkPrincipal(inputs.laceworkAwsAccountId);
    const externalId = inputs.existingCaExternalId ?? '';
    checks.push(
      roleProblems(aws, inputs.existingCaRoleArn, '--existing-ca-role-arn', (trust) => {
        const t = trustsWithExternalId(trust, principal, externalId);
        if (!t.principal) return `--existing-ca-role-arn ${inputs.existingCaRoleArn}: its trust policy does not let FortiCNAPP (${principal}) assume it; add that principal with the external ID condition, or leave the flag out to let setup make the role.`;
        if (!t.externalId) return `--existing-ca-external-id does not match the sts:ExternalId in the trust policy of ${inputs.existingCaRoleArn}; pass the external ID that policy requires.`;
        return undefined;
      }),
    );
  }
  if (inputs.existingFirehoseRoleArn) checks.push(roleProblems(aws, inputs.existingFirehoseRoleArn, '--existing-firehose-role-arn'));
  if (inputs.existingCwRoleArn) checks.push(roleProblems(aws, inputs.existingCwRoleArn, '--existing-cw-role-arn'));
  if (inputs.kmsKeyArn && !inputs.noKms) checks.push(userKeyProblems(aws, inputs.kmsKeyArn, inputs, names));
  return (await Promise.all(checks)).flat();
}

/**
 * What stops the pipeline from using a KMS key of the user's (`--kms-key-arn`): its region and account, its
 * state and spec, and its key policy (the statements S3, SNS, Firehose and FortiCNAPP's role need; see
 * `keyPolicyGaps`). Preflight refuses on them; status reports them.
 * @returns one line per problem, each saying what to do; none when the key can be used.
 */
export async function userKeyProblems(aws: AwsClients, keyArn: string, inputs: Inputs, names: Names): Promise<string[]> {
  const home = names.homeRegion;
  const [, , , region = '', account = ''] = keyArn.split(':');
  if (region !== home) return [`--kms-key-arn: the key is in ${region}, but the bucket, topic and stream live in ${home}; use a key of ${home}.`];
  if (account !== names.accountId) return [`--kms-key-arn: the key belongs to account ${account}; use a key of this account (${names.accountId}).`];
  const kms = await aws.kms(region);
  try {
    const m = (await kms.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata;
    if (m?.KeyState !== 'Enabled') return [`--kms-key-arn: the key is ${m?.KeyState ?? 'unusable'}; use an enabled key.`];
    if (m.KeySpec && m.KeySpec !== 'SYMMETRIC_DEFAULT') return [`--kms-key-arn: the key is ${m.KeySpec}; S3, SNS and Firehose need a symmetric encryption key.`];
    const policy = parsePolicy((await kms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' }))).Policy);
    const arns = pipelineArns(inputs, names);
    const gaps = keyPolicyGaps(policy, names.accountId, [arns.firehoseRoleArn, arns.caRoleArn]);
    if (gaps.length > 0) {
      return [
        `--kms-key-arn: the key policy does not let the pipeline use the key (S3 could not publish to the encrypted topic, Firehose could not write, FortiCNAPP could not read). Ask the key owner to add these statements to the key policy, then run setup again: ${JSON.stringify(gaps)}`,
      ];
    }
    return [];
  } catch (err) {
    if (isNotFound(err)) return [`--kms-key-arn: no such key; check the ARN.`];
    return [`--kms-key-arn: could not read the key (${describeAwsError(err)}); you need kms:DescribeKey and kms:GetKeyPolicy on it.`];
  }
}
