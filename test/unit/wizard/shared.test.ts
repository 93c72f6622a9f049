import { describe, expect, it } from 'vitest';
import { checkLifecycleDays, checkRegion } from '../../../src/config/validate.js';
import {
  ADVANCED_MENU,
  QUESTIONS,
  arnValidator,
  flagOf,
  forAnswer,
  validateAccount,
  validateClusterNames,
  validateExternalId,
  validateKeyId,
  validateRegion,
  validateSecret,
} from '../../../src/wizard/questions/shared.js';

describe('forAnswer: a flag problem reworded for a typed answer', () => {
  it('drops the flag before a quoted value or after a colon, names the thing otherwise', () => {
    expect(forAnswer("--bucket-lifecycle-days '0' must be…", '--bucket-lifecycle-days', 'lifecycle days')).toBe("'0' must be…");
    expect(forAnswer('--region-clusters: bad region', '--region-clusters', 'x')).toBe('bad region');
    expect(forAnswer('--integration-name must be 1-128 characters.', '--integration-name', 'the integration name')).toBe(
      'The integration name must be 1-128 characters.',
    );
    expect(forAnswer(undefined, '--x', 'x')).toBeUndefined();
    expect(forAnswer('something else', '--x', 'x')).toBe('something else');
  });
});

describe('validators: the same checks as the flags', () => {
  it('region: anchored (the reference accepted xus-east-1yy), GovCloud refused, empty explained', () => {
    expect(validateRegion('eu-central-1')).toBeUndefined();
    for (const bad of ['xus-east-1yy', 'us-gov-west-1', 'mars-north-1']) expect(validateRegion(bad)).toBe(checkRegion(bad));
    expect(validateRegion('')).toMatch(/Type a region/);
    expect(QUESTIONS.region.validate).toBe(validateRegion);
  });

  it('cluster names: split on commas, trimmed, empties dropped, each a valid EKS name', () => {
    expect(validateClusterNames(' prod , stage ,, ')).toBeUndefined();
    expect(validateClusterNames(' , ')).toMatch(/at least one/);
    expect(validateClusterNames('prod, bad name')).toMatch(/'bad name' is not a valid EKS cluster name/);
    expect(validateClusterNames('a'.repeat(101))).toMatch(/at most 100/);
  });

  it('ARNs: the flag check without the flag name; empty only where it means "create one"', () => {
    const required = arnValidator('iam-role', '--existing-firehose-role-arn', false);
    const optional = arnValidator('iam-role', '--existing-cw-role-arn', true);
    expect(required('arn:aws:iam::123456789012:role/fh')).toBeUndefined();
    expect(required('')).toMatch(/required/);
    expect(optional('')).toBeUndefined();
    expect(optional('arn:aws:iam::12:role/x')).toMatch(/^'arn:aws:iam::12:role\/x' is not/);
    expect(optional('arn:aws:iam::12:role/x')).not.toContain('--existing');
    // The reference left the optional KMS ARNs unvalidated; here every ARN question validates.
    expect(QUESTIONS.kmsKeyArn.validate('not-an-arn')).toBeDefined();
  });

  it('lifecycle days: 1-3650, the flag rule', () => {
    expect(QUESTIONS.bucketLifecycleDays.validate('180')).toBeUndefined();
    for (const bad of ['0', '3651', '1.5', 'ten']) {
      expect(QUESTIONS.bucketLifecycleDays.validate(bad)).toBe(checkLifecycleDays(bad)?.replace('--bucket-lifecycle-days ', ''));
    }
  });

  it('account: what --account accepts (normalized by the credentials code)', async () => {
    await expect(validateAccount('acme')).resolves.toBeUndefined();
    await expect(validateAccount('acme.lacework.net')).resolves.toBeUndefined();
    await expect(validateAccount('https://acme.fra.lacework.net/ui/investigation')).resolves.toBeUndefined();
    await expect(validateAccount('ac me!')).resolves.toMatch(/not a valid account name/);
    await expect(validateAccount('')).resolves.toMatch(/Type the account name/);
  });

  it('key id, secret and external id', () => {
    expect(validateKeyId('ACME_0123')).toBeUndefined();
    expect(validateKeyId('')).toBeDefined();
    expect(validateKeyId('a b')).toBeDefined();
    expect(validateSecret('_abc')).toBeUndefined();
    expect(validateSecret('')).toBeDefined();
    expect(validateSecret('has space')).not.toContain('has space'); // never quotes the secret back
    expect(validateExternalId('lweid:aws:v2:acme:123456789012:AbCdE12345')).toBeUndefined();
    expect(validateExternalId('x')).toBeDefined();
    expect(validateExternalId('no spaces allowed')).toBeDefined();
  });

  it('fixes the reference typo "comma-seperated"', () => {
    expect(QUESTIONS.clusterNames.message('us-east-1')).toContain('Comma-separated');
  });
});

describe('one definition per input', () => {
  it('every question with an option names the flag that answers it', () => {
    for (const [name, q] of Object.entries(QUESTIONS)) {
      const def = q as { option?: string; flag?: string };
      if (def.option) expect(def.flag, name).toMatch(/^--[a-z-]+$/);
    }
  });

  it('flagOf spells the answers as the command line does', () => {
    expect(flagOf('existingBucketArn')).toBe('--existing-bucket-arn');
    expect(flagOf('noKms')).toBe('--no-kms');
    expect(flagOf('bucketVersioning')).toBe('--no-bucket-versioning');
    expect(flagOf('enableAuditLogging')).toBe('--no-enable-audit-logging');
    expect(flagOf('existingCaExternalId')).toBe('--existing-ca-external-id');
    expect(flagOf('tags')).toBe('--tag');
  });

  it('the advanced menu keeps the reference order and ends with Done', () => {
    expect(ADVANCED_MENU.map((m) => m.item)).toEqual(['bucket', 'caRole', 'firehose', 'cwRole', 'kms', 'integrationName', 'homeRegion', 'done']);
  });
});
