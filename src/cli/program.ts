/**
 * The commander program: every command and flag of DESIGN §2. Command bodies are imported lazily so
 * that `--help` never loads the AWS SDK.
 */
import { Command, Option } from 'commander';
import pkg from '../../package.json' with { type: 'json' };

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Runs a command body; main.ts turns what it returns or throws into an exit code. */
export type Runner = (name: string, opts: Record<string, unknown>) => Promise<void>;

function commonOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print one JSON document on stdout (progress and logs go to stderr)')
    .option('--no-color', 'plain output (also when NO_COLOR is set or output is not a terminal)')
    .addOption(new Option('--state-dir <dir>', 'where deployment journals live').env('FORTICNAPP_EKS_AUDIT_STATE_DIR').default(undefined, '~/.forticnapp-eks-audit'))
    .addOption(new Option('--aws-profile <name>', 'AWS profile (otherwise the SDK default chain, CloudShell included)').env('AWS_PROFILE'))
    .option('--non-interactive', 'never prompt; a missing input is an error naming its flag (LW_NONINTERACTIVE)');
}

function credentialOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('-a, --account <name>', 'FortiCNAPP account (acme or acme.lacework.net) [LW_ACCOUNT]'))
    .addOption(new Option('--subaccount <name>', 'FortiCNAPP sub-account, sent as Account-Name [LW_SUBACCOUNT]'))
    .addOption(new Option('-k, --api-key <id>', 'FortiCNAPP API key id [LW_API_KEY]'))
    .addOption(new Option('-s, --api-secret <secret>', 'FortiCNAPP API secret (visible in ps and shell history: prefer --api-key-file or LW_API_SECRET)'))
    .option('--api-key-file <path>', 'the JSON API key file downloaded from the FortiCNAPP console')
    .addOption(new Option('-p, --profile <name>', 'profile in ~/.lacework.toml [LW_PROFILE]'));
}

function setupOptions(cmd: Command): Command {
  credentialOptions(cmd);
  return commonOptions(cmd)
    .option('--region-clusters <region=c1,c2>', 'clusters per region (repeatable)', collect)
    .option('--home-region <region>', 'where the bucket, SNS topic, KMS key and Firehose stream live (default: first region)')
    .option('--prefix <prefix>', 'resource name prefix (default lw-eks-al)')
    .option('--integration-name <name>', 'FortiCNAPP integration name')
    .option('--tag <key=value>', 'extra tag on every taggable resource (repeatable)', collect)
    .option('--filter-pattern <pattern>', 'CloudWatch Logs subscription filter pattern')
    .option('--lacework-aws-account-id <id>', 'trusted FortiCNAPP AWS account (default 434813966438)')
    .option('--existing-bucket-arn <arn>', 'use this bucket instead of creating one')
    .option('--existing-ca-role-arn <arn>', 'use this cross-account role (with --existing-ca-external-id)')
    .option('--existing-ca-external-id <id>', 'the external ID the existing cross-account role requires')
    .option('--existing-firehose-role-arn <arn>', 'use this Firehose role')
    .option('--existing-cw-role-arn <arn>', 'use this CloudWatch Logs role')
    .option('--kms-key-arn <arn>', 'encrypt with this KMS key instead of creating one')
    .option('--no-kms', 'no KMS key: SSE-S3 on the bucket, unencrypted topic')
    .option('--bucket-lifecycle-days <n>', 'days before audit-log objects expire (default 180)')
    .option('--no-bucket-versioning', 'do not turn on versioning on the new bucket')
    .option('--sqs-queue-arn <arn>', 'also subscribe this SQS queue to the topic')
    .option('--no-enable-audit-logging', 'do not touch cluster logging; fail in preflight where audit is off')
    .option('-y, --yes', 'no confirmation question')
    .option('--no-rollback', 'on failure keep what was made, for a later setup to resume');
}

export function buildProgram(run: Runner): Command {
  const program = new Command()
    .name('forticnapp-eks-audit')
    .description('Connect Amazon EKS audit logs to FortiCNAPP: audit logging, CloudWatch Logs → Firehose → S3 → SNS, and the integration.')
    .version(pkg.version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  setupOptions(program.command('setup', { isDefault: true }).description('wizard on a terminal; flags answer its questions'))
    .action((opts: Record<string, unknown>) => run('setup', opts));
  setupOptions(program.command('plan').description('show every create/keep/change and every conflict; changes nothing'))
    .action((opts: Record<string, unknown>) => run('plan', opts));
  credentialOptions(commonOptions(program.command('status').description('check a deployment hop by hop against AWS and FortiCNAPP')))
    .option('--deployment <id>', 'deployment id (optional when exactly one is known)')
    .option('-y, --yes', 'accepted for symmetry; status never asks')
    .action((opts: Record<string, unknown>) => run('status', opts));
  credentialOptions(commonOptions(program.command('teardown').description('remove what a deployment made, newest first; restore cluster logging')))
    .option('--deployment <id>', 'deployment id (optional when exactly one is known)')
    .option('--discover', 'find resources by tags and names when the journal is lost')
    .option('--region <region>', 'with --discover: a region to search (repeatable)', collect)
    .option('--prefix <prefix>', 'with --discover: the resource name prefix (default lw-eks-al)')
    .option('-y, --yes', 'no confirmation question')
    .action((opts: Record<string, unknown>) => run('teardown', opts));
  commonOptions(program.command('list').description('deployments known from journals (and, with --discover, from AWS tags)'))
    .option('--discover', 'also look for deployments by AWS tags')
    .option('--region <region>', 'with --discover: a region to search (repeatable)', collect)
    .action((opts: Record<string, unknown>) => run('list', opts));
  program
    .command('permissions')
    .description('print the IAM policy the person running setup and teardown needs')
    .option('--json', 'one JSON document (schemaVersion 1) with the policy under "policy"')
    .action((opts: Record<string, unknown>) => run('permissions', opts));
  return program;
}
