/**
 * Every command line the tool prints for the person to run next (status, teardown, setup again, a retry of
 * some accounts), built in one place from the way this process was started (npx, a global install, or
 * `node <path>` from a clone) and the options in force, so that each works as printed (DESIGN §2). The
 * one shell quoter lives here. Never a secret: `--api-secret` is never repeated.
 */
import { isAbsolute, resolve, basename, dirname, delimiter } from 'node:path';
import { DEFAULTS, type Inputs } from '../config/inputs.js';
import { defaultStateDir } from '../state/journal.js';

/** Quotes one word for a POSIX shell: as it is when safe, else in single quotes. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * How to start this tool again, as words: `npx forticnapp-eks-audit` when it runs from npx (`npm exec`),
 * `forticnapp-eks-audit` when it runs from an install on PATH, otherwise `node <absolute path of the bin>`.
 */
export function invocation(argv: string[] = process.argv, env: NodeJS.ProcessEnv = process.env): string[] {
  const script = argv[1] ?? '';
  const abs = isAbsolute(script) ? script : resolve(script);
  // npm_command=exec is inherited by every process under `npm exec`: only the bin link npx runs counts.
  if ((env.npm_command === 'exec' && basename(abs) === 'forticnapp-eks-audit') || /[\\/]_npx[\\/]/.test(abs)) return ['npx', 'forticnapp-eks-audit'];
  if (basename(abs) === 'forticnapp-eks-audit' && (env.PATH ?? '').split(delimiter).includes(dirname(abs))) return ['forticnapp-eks-audit'];
  return ['node', abs];
}

/** The options a next command must repeat to act on the same deployment from the same place. */
export interface InForce {
  stateDir: string;
  awsProfile?: string;
  /** Absolute path of the key file the credentials came from. */
  apiKeyFile?: string;
  /** `~/.lacework.toml` profile. */
  profile?: string;
  prefix?: string;
  deploymentId?: string;
}

function common(o: InForce, withDeployment: boolean): string[] {
  const args: string[] = [];
  if (withDeployment && o.deploymentId) args.push('--deployment', o.deploymentId);
  if (o.prefix && o.prefix !== DEFAULTS.prefix && !(withDeployment && o.deploymentId)) args.push('--prefix', o.prefix);
  if (o.stateDir !== defaultStateDir({})) args.push('--state-dir', o.stateDir);
  if (o.awsProfile) args.push('--aws-profile', o.awsProfile);
  if (o.apiKeyFile) args.push('--api-key-file', o.apiKeyFile);
  if (o.profile) args.push('--profile', o.profile);
  return args;
}

/** A command line, quoted. */
export function commandLine(words: string[]): string {
  return words.map(shellQuote).join(' ');
}

export function statusCommand(o: InForce, extra: string[] = []): string {
  return commandLine([...invocation(), 'status', ...common(o, true), ...extra]);
}

export function teardownCommand(o: InForce, extra: string[] = []): string {
  return commandLine([...invocation(), 'teardown', ...common(o, true), ...extra]);
}

/** The setup command that makes the account match these inputs again (non-interactive: it runs as printed). */
export function setupCommand(inputs: Inputs, o: InForce, extra: string[] = []): string {
  const args = ['setup', '--non-interactive', '--yes'];
  for (const [region, list] of Object.entries(inputs.regionClusters)) args.push('--region-clusters', `${region}=${list.join(',')}`);
  args.push('--home-region', inputs.homeRegion);
  if (inputs.prefix !== DEFAULTS.prefix) args.push('--prefix', inputs.prefix);
  if (inputs.integrationName) args.push('--integration-name', inputs.integrationName);
  for (const [k, v] of Object.entries(inputs.tags ?? {})) args.push('--tag', `${k}=${v}`);
  if (inputs.filterPattern !== DEFAULTS.filterPattern) args.push('--filter-pattern', inputs.filterPattern);
  if (inputs.laceworkAwsAccountId !== DEFAULTS.laceworkAwsAccountId) args.push('--lacework-aws-account-id', inputs.laceworkAwsAccountId);
  if (inputs.existingBucketArn) args.push('--existing-bucket-arn', inputs.existingBucketArn);
  if (inputs.existingCaRoleArn) args.push('--existing-ca-role-arn', inputs.existingCaRoleArn);
  if (inputs.existingCaExternalId) args.push('--existing-ca-external-id', inputs.existingCaExternalId);
  if (inputs.existingFirehoseRoleArn) args.push('--existing-firehose-role-arn', inputs.existingFirehoseRoleArn);
  if (inputs.existingCwRoleArn) args.push('--existing-cw-role-arn', inputs.existingCwRoleArn);
  if (inputs.kmsKeyArn) args.push('--kms-key-arn', inputs.kmsKeyArn);
  if (inputs.noKms) args.push('--no-kms');
  if (inputs.bucketLifecycleDays !== DEFAULTS.bucketLifecycleDays) args.push('--bucket-lifecycle-days', String(inputs.bucketLifecycleDays));
  if (!inputs.bucketVersioning) args.push('--no-bucket-versioning');
  if (inputs.sqsQueueArn) args.push('--sqs-queue-arn', inputs.sqsQueueArn);
  if (!inputs.enableAuditLogging) args.push('--no-enable-audit-logging');
  return commandLine([...invocation(), ...args, ...common({ ...o, prefix: undefined }, false), ...extra]);
}

/** The same command line as this run, for retrying: `argv` with the accounts replaced (organizations). */
export function retryCommand(argv: string[], replace: { drop: string[]; add: string[] }): string {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const flag = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (replace.drop.includes(flag)) {
      if (!a.includes('=') && !(argv[i + 1] ?? '').startsWith('-') && !['--organization', '--all-clusters'].includes(flag)) i++;
      continue;
    }
    if (a === '--api-secret' || a === '-s' || a === '--api_secret') {
      i++; // never repeat the secret: the next run takes it from the key file, LW_API_SECRET or a profile
      continue;
    }
    if (a.startsWith('--api-secret=') || a.startsWith('--api_secret=')) continue;
    out.push(a);
  }
  return commandLine([...invocation(), ...out, ...replace.add]);
}
