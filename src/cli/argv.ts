/**
 * The reference CLI's flag spellings (`lacework generate k8s eks`, DESIGN §2 in brackets) are accepted as
 * aliases: they are rewritten to ours before commander parses.
 */
const ALIASES: Record<string, string> = {
  '--region_clusters': '--region-clusters',
  '--api_key': '--api-key',
  '--api_secret': '--api-secret',
  '--aws_profile': '--aws-profile',
  '--custom_filter_pattern': '--filter-pattern',
  '--noninteractive': '--non-interactive',
  '--integration_name': '--integration-name',
  '--lacework_aws_account_id': '--lacework-aws-account-id',
  '--existing_bucket_arn': '--existing-bucket-arn',
  '--existing_ca_iam_role_arn': '--existing-ca-role-arn',
  '--existing_ca_iam_role_external_id': '--existing-ca-external-id',
  '--existing_firehose_iam_role_arn': '--existing-firehose-role-arn',
  '--existing_cw_iam_role_arn': '--existing-cw-role-arn',
  '--bucket_lifecycle_exp_days': '--bucket-lifecycle-days',
  '--nocolor': '--no-color',
};

export function normalizeArgv(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const alias = ALIASES[flag];
    out.push(alias ? alias + (eq > 0 ? arg.slice(eq) : '') : arg);
  }
  return out;
}
