/**
 * The commander program: every command and flag of DESIGN §2, grouped for a person in a hurry (what to
 * connect, FortiCNAPP credentials, AWS, advanced, output), environment variables in commander's own
 * `(env: NAME)` notation, examples and the exit codes in `--help`. Command bodies are imported lazily by
 * main.ts, so `--help` never loads the AWS SDK.
 */
import { Command, Option } from 'commander';
import pkg from '../../package.json' with { type: 'json' };

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** commander's notation for an environment variable, for those read outside commander. */
const env = (name: string) => `(env: ${name})`;

/** Runs a command body; main.ts turns what it returns or throws into an exit code. */
export type Runner = (name: string, opts: Record<string, unknown>) => Promise<void>;

export const COMMANDS = ['setup', 'plan', 'status', 'teardown', 'list', 'permissions'] as const;

const EXIT_CODES = `
Exit codes:
  0    done
  1    failed, and nothing it made is left (rolled back); status: not healthy
  2    bad usage or input, or a plan with a conflict: nothing was changed
  3    failed, and resources are left: the message names the journal and the exact command to finish
  130  interrupted`;

function group(cmd: Command, heading: string, add: (c: Command) => void): Command {
  cmd.optionsGroup(heading);
  add(cmd);
  return cmd;
}

function targetOptions(cmd: Command): void {
  group(cmd, 'What to connect:', (c) =>
    c
      .option('--region-clusters <region=c1,c2>', 'EKS clusters per region (repeatable), e.g. eu-central-1=prod,stage', collect)
      .option('--home-region <region>', 'where the bucket, SNS topic, KMS key and Firehose stream live (default: the first region)'),
  );
}

function organizationOptions(cmd: Command, forSetup: boolean): void {
  group(cmd, 'AWS Organizations (every member account):', (c) => {
    c.option('--organization', 'every ACTIVE account of the organization (run from its management or delegated account)')
      .option('--ou <id>', 'with --organization: only accounts under this OU (repeatable)', collect)
      .option('--exclude-account <id>', 'leave this account out (repeatable)', collect)
      .option('--accounts <id,id>', 'these accounts instead of the whole organization')
      .addOption(new Option('--assume-role-name <name>', 'role to assume in each member account').default('OrganizationAccountAccessRole'))
      .addOption(new Option('--max-concurrent-accounts <n>', 'accounts worked on at once').default('20'));
    if (forSetup) {
      c.option('--regions <r1,r2>', 'with --all-clusters: the regions to look in')
        .option('--all-clusters', 'every ACTIVE cluster in --regions of each account');
    } else {
      c.option('--regions <r1,r2>', 'the regions to look in (coverage report)');
    }
  });
}

function credentialOptions(cmd: Command): void {
  group(cmd, 'FortiCNAPP credentials:', (c) =>
    c
      .option('--api-key-file <path>', 'the JSON API key file downloaded from the FortiCNAPP console (Settings > API keys)')
      // The LW_* variables are read with the key file and ~/.lacework.toml (lacework/credentials.ts), field by field;
      // shown in commander's notation.
      .option('-a, --account <name>', `FortiCNAPP account, acme or acme.lacework.net ${env('LW_ACCOUNT')}`)
      .option('--subaccount <name>', `FortiCNAPP sub-account, sent as Account-Name ${env('LW_SUBACCOUNT')}`)
      .option('-k, --api-key <id>', `API key id ${env('LW_API_KEY')}`)
      .option('-s, --api-secret <secret>', `API secret (visible in ps and shell history: prefer the key file) ${env('LW_API_SECRET')}`)
      .option('-p, --profile <name>', `profile in ~/.lacework.toml ${env('LW_PROFILE')}`),
  );
}

function awsOptions(cmd: Command): void {
  group(cmd, 'AWS:', (c) => c.addOption(new Option('--aws-profile <name>', 'AWS profile (otherwise the default chain, CloudShell included)').env('AWS_PROFILE')));
}

function outputOptions(cmd: Command, opts: { yes?: string; nonInteractive?: boolean } = {}): void {
  group(cmd, 'Output and behaviour:', (c) => {
    c.option('--json', 'one JSON document on stdout (progress and logs go to stderr)')
      .option('--no-color', `plain output (also when output is not a terminal) ${env('NO_COLOR')}`)
      .addOption(new Option('--state-dir <dir>', 'where journals and saved answers live (default ~/.forticnapp-eks-audit)').env('FORTICNAPP_EKS_AUDIT_STATE_DIR'));
    // LW_NONINTERACTIVE is read as a boolean (1/true/yes on, 0/false/no off) by the session, not by commander.
    if (opts.nonInteractive !== false) c.option('--non-interactive', `never ask; a missing input is an error naming its flag ${env('LW_NONINTERACTIVE')}`);
    if (opts.yes) c.option('-y, --yes', opts.yes);
  });
}

function advancedOptions(cmd: Command): void {
  group(cmd, 'Advanced:', (c) =>
    c
      .option('--prefix <prefix>', 'resource name prefix (default lw-eks-al)')
      .option('--integration-name <name>', 'FortiCNAPP integration name (default "EKS Audit Log <account id>")')
      .option('--tag <key=value>', 'extra tag on every taggable resource (repeatable)', collect)
      .option('--filter-pattern <pattern>', 'CloudWatch Logs subscription filter pattern (default: the reference pattern)')
      .option('--lacework-aws-account-id <id>', 'trusted FortiCNAPP AWS account (default 434813966438)')
      .option('--existing-bucket-arn <arn>', 'use this bucket (home region); our notification is merged into its configuration')
      .option('--existing-ca-role-arn <arn>', 'use this cross-account role (with --existing-ca-external-id)')
      .option('--existing-ca-external-id <id>', 'the external ID that role’s trust policy requires')
      .option('--existing-firehose-role-arn <arn>', 'use this Firehose role')
      .option('--existing-cw-role-arn <arn>', 'use this CloudWatch Logs role')
      .option('--kms-key-arn <arn>', 'encrypt with this KMS key (home region) instead of creating one')
      .option('--no-kms', 'no KMS key: SSE-S3 on the bucket, unencrypted topic, AWS-owned key on the stream')
      .option('--bucket-lifecycle-days <n>', 'days before audit-log objects expire (default 180)')
      .option('--no-bucket-versioning', 'no versioning on the new bucket')
      .option('--sqs-queue-arn <arn>', 'also subscribe this SQS queue to the topic')
      .option('--no-enable-audit-logging', 'do not touch cluster logging; a conflict where audit is off')
      .option('--no-rollback', 'on failure keep what was made, for a later setup to finish'),
  );
}

function setupFlags(cmd: Command, yes = 'apply without the confirmation question (required when nobody can answer it)'): Command {
  targetOptions(cmd);
  credentialOptions(cmd);
  awsOptions(cmd);
  organizationOptions(cmd, true);
  advancedOptions(cmd);
  outputOptions(cmd, { yes });
  return cmd;
}

function deploymentOptions(cmd: Command): void {
  group(cmd, 'Which deployment:', (c) =>
    c
      .option('--deployment <id>', 'the deployment id (8 hex, as in the resource names); default: the one of --prefix in this account')
      .option('--prefix <prefix>', 'resource name prefix of the deployment (default lw-eks-al)'),
  );
}

export function buildProgram(run: Runner): Command {
  const program = new Command()
    .name('forticnapp-eks-audit')
    .description(
      // Paragraphs without line breaks: commander wraps them to the terminal's width.
      'Connect Amazon EKS audit logs to FortiCNAPP (formerly Lacework).\n\n' +
        'setup (the default command) turns on the audit log type of each cluster you name, builds the pipeline ' +
        'CloudWatch Logs -> Firehose -> S3 -> SNS with least-privilege roles and a KMS key, and registers the ' +
        'integration with FortiCNAPP. On a terminal it asks; in scripts, flags answer.\n\n' +
        'Everything it makes is recorded in the AWS account, so any machine can check it (status) or remove it (teardown).',
    )
    .version(pkg.version)
    .exitOverride();
  program.addHelpText(
    'after',
    `
Examples:
  $ npx forticnapp-eks-audit                      the wizard (in AWS CloudShell)
  $ npx forticnapp-eks-audit setup --non-interactive --yes \\
      --region-clusters eu-central-1=prod,stage --api-key-file ./acme-key.json
  $ npx forticnapp-eks-audit status
  $ npx forticnapp-eks-audit teardown --yes --api-key-file ./acme-key.json

Run "forticnapp-eks-audit <command> --help" for a command's flags.
${EXIT_CODES}`,
  );

  setupFlags(program.command('setup', { isDefault: true }).description('connect clusters (the wizard on a terminal; flags answer its questions); converges the account to the inputs'))
    .addHelpText(
      'after',
      `
Examples:
  $ forticnapp-eks-audit setup
  $ forticnapp-eks-audit setup --non-interactive --yes --region-clusters eu-central-1=prod,stage \\
      --region-clusters us-east-1=edge --api-key-file ./acme-key.json
  $ forticnapp-eks-audit setup --organization --regions eu-central-1,us-east-1 --all-clusters \\
      --non-interactive --yes --api-key-file ./acme-key.json
${EXIT_CODES}`,
    )
    .action((opts: Record<string, unknown>) => run('setup', opts));

  setupFlags(
    program.command('plan').description('what setup would do: every create, change, replacement, removal and conflict, with exact names; changes nothing'),
    'accepted so a setup command line works as a plan; plan never applies anything',
  )
    .addHelpText('after', `\nExamples:\n  $ forticnapp-eks-audit plan --region-clusters eu-central-1=prod --api-key-file ./acme-key.json\n  $ forticnapp-eks-audit plan --json --region-clusters eu-central-1=prod --api-key-file ./acme-key.json\n${EXIT_CODES}`)
    .action((opts: Record<string, unknown>) => run('plan', opts));

  const status = program.command('status').description('check the deployment hop by hop against AWS and FortiCNAPP (exit 0 healthy, 1 not)');
  deploymentOptions(status);
  credentialOptions(status);
  awsOptions(status);
  organizationOptions(status, false);
  outputOptions(status, { yes: 'accepted for symmetry with setup and teardown; status changes nothing' });
  status
    .addHelpText('after', `\nExamples:\n  $ forticnapp-eks-audit status\n  $ forticnapp-eks-audit status --organization --regions eu-central-1,us-east-1\n${EXIT_CODES}`)
    .action((opts: Record<string, unknown>) => run('status', opts));

  const teardown = program.command('teardown').description('remove everything the deployment made, in reverse order; restore cluster logging; keep log groups');
  deploymentOptions(teardown);
  group(teardown, 'When the record is gone too:', (c) =>
    c.option('--discover', 'find the deployment by its tags and names').option('--region <region>', 'with --discover: a region to search (repeatable)', collect),
  );
  credentialOptions(teardown);
  awsOptions(teardown);
  organizationOptions(teardown, false);
  outputOptions(teardown, { yes: 'remove without the confirmation question (required when nobody can answer it)' });
  teardown
    .addHelpText('after', `\nExamples:\n  $ forticnapp-eks-audit teardown\n  $ forticnapp-eks-audit teardown --yes --api-key-file ./acme-key.json\n  $ forticnapp-eks-audit teardown --discover --region eu-central-1 --yes --api-key-file ./acme-key.json\n${EXIT_CODES}`)
    .action((opts: Record<string, unknown>) => run('teardown', opts));

  const list = program.command('list').description('deployments in the account (their records) and in journals here; torn-down ones are not listed');
  group(list, 'Where to look:', (c) =>
    c.option('--region <region>', 'also look in this region (repeatable)', collect).option('--discover', 'also find deployments by their tags (for one whose record is gone)'),
  );
  awsOptions(list);
  organizationOptions(list, false);
  outputOptions(list);
  list.addHelpText('after', `\nExamples:\n  $ forticnapp-eks-audit list\n  $ forticnapp-eks-audit list --discover --region eu-central-1\n${EXIT_CODES}`).action((opts: Record<string, unknown>) => run('list', opts));

  program
    .command('permissions')
    .description('print the IAM policy the person running setup, status and teardown needs')
    .optionsGroup('Output:')
    .option('--json', 'one JSON document (schemaVersion 1) with the policy under "policy"')
    .option('--prefix <prefix>', 'scope the policy to this resource name prefix (default lw-eks-al)')
    .addHelpText('after', `\nExamples:\n  $ forticnapp-eks-audit permissions > policy.json\n${EXIT_CODES}`)
    .action((opts: Record<string, unknown>) => run('permissions', opts));
  return program;
}
