/** `list` (journals, and with --discover AWS tags), `status` (hop by hop) and `permissions`. */
import { UsageError } from '../../errors.js';
import { createAwsClients } from '../../aws/clients.js';
import { createLaceworkApi, type LaceworkApi } from '../../lacework/api.js';
import { credentialInputs, resolveCredentials, type CredentialInputs } from '../../lacework/credentials.js';
import { listJournals, replay } from '../../journal/journal.js';
import { callerAccount, pickDeployment } from '../../provision/deploy.js';
import { permissionsPolicy } from '../../provision/permissions.js';
import { checkDeployment, type HopCheck, type StatusReport } from '../../provision/status.js';
import { discoverByTags, type DiscoveredDeployment } from '../../provision/tag-discovery.js';
import { startSession, type Session } from '../session.js';
import { errorLine, printJson, say, type Output } from '../render.js';

interface CommonOptions {
  json?: boolean;
  color?: boolean;
  stateDir?: string;
  awsProfile?: string;
  nonInteractive?: boolean;
}

interface StatusOptions extends CommonOptions, CredentialInputs {
  deployment?: string;
}

interface ListOptions extends CommonOptions {
  discover?: boolean;
  region?: string[];
}

export async function otherCommand(name: string, opts: Record<string, unknown>): Promise<number> {
  if (name === 'list') return listCommand(opts as ListOptions);
  if (name === 'status') return statusCommand(opts as StatusOptions);
  if (name === 'permissions') return permissionsCommand(opts as CommonOptions);
  throw new UsageError(`'${name}' is not available in this version.`, 'NotImplemented');
}

// ---------------------------------------------------------------------------------------------- list

interface ListRow {
  deploymentId: string;
  accountId?: string;
  homeRegion?: string;
  createdAt?: string;
  /** Resources the journal says are live. */
  resources?: number;
  journal?: string;
  /** With --discover: what the tags show. */
  discovered?: { regions: string[]; resources: DiscoveredDeployment['resources'] };
  source: 'journal' | 'aws' | 'journal+aws';
}

async function listCommand(opts: ListOptions): Promise<number> {
  const s = startSession(opts);
  try {
    const { journals, warnings } = listJournals(s.stateDir);
    for (const w of warnings) s.o.err.write(`warning: ${w}\n`);
    const rows = new Map<string, ListRow>();
    for (const j of journals) {
      rows.set(j.header.deploymentId, {
        deploymentId: j.header.deploymentId,
        accountId: j.header.accountId,
        homeRegion: j.header.homeRegion,
        createdAt: j.header.at,
        resources: replay(j.records).size,
        journal: j.path,
        source: 'journal',
      });
    }
    let discoveredIn: { accountId: string; regions: string[] } | undefined;
    if (opts.discover) {
      // Without --region: the home regions the journals know, plus the SDK's default region.
      const regions = [...new Set(opts.region?.length ? opts.region : [...journals.map((j) => j.header.homeRegion), process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? ''].filter(Boolean))];
      if (regions.length === 0) throw new UsageError('list --discover needs the regions to search: --region <region> (repeatable).', 'MissingRegion');
      const aws = createAwsClients({ profile: opts.awsProfile });
      if (!s.o.json) s.o.err.write(s.o.c.dim(`Looking for tagged resources in ${regions.join(', ')} and IAM…\n`));
      const accountId = await callerAccount(aws, regions[0] as string);
      discoveredIn = { accountId, regions };
      for (const d of await discoverByTags(aws, regions)) {
        const row = rows.get(d.deploymentId);
        const discovered = { regions: d.regions, resources: d.resources };
        if (row && row.accountId === accountId) rows.set(d.deploymentId, { ...row, discovered, source: 'journal+aws' });
        else if (!row) rows.set(d.deploymentId, { deploymentId: d.deploymentId, accountId, discovered, source: 'aws' });
      }
    }
    const list = [...rows.values()].sort((a, b) => a.deploymentId.localeCompare(b.deploymentId));
    if (s.o.json) {
      printJson(s.o, { schemaVersion: 1, command: 'list', status: 'ok', deployments: list, ...(discoveredIn ? { discovered: discoveredIn } : {}) });
      return 0;
    }
    if (list.length === 0) {
      say(s.o, `No deployments known in ${s.stateDir}${discoveredIn ? ` or tagged in ${discoveredIn.regions.join(', ')} of account ${discoveredIn.accountId}` : ''}.`);
      return 0;
    }
    for (const r of list) {
      const parts = [r.deploymentId, `account ${r.accountId ?? '?'}`];
      if (r.homeRegion) parts.push(`home ${r.homeRegion}`);
      if (r.resources !== undefined) parts.push(`${r.resources} resources in the journal`);
      if (r.discovered) parts.push(`${r.discovered.resources.length} tagged in AWS (${r.discovered.regions.join(', ')})`);
      say(s.o, parts.join('  '));
      if (r.journal) say(s.o, s.o.c.dim(`    journal ${r.journal}`));
      if (r.source === 'aws') {
        const regionFlags = r.discovered?.regions.filter((x) => x !== 'global').map((x) => `--region ${x}`).join(' ') ?? '';
        say(s.o, s.o.c.dim(`    no journal here: remove it with npx forticnapp-eks-audit teardown --discover --deployment ${r.deploymentId} ${regionFlags}`.trimEnd()));
      }
    }
    return 0;
  } finally {
    s.done();
  }
}

// -------------------------------------------------------------------------------------------- status

const CHECK_LABEL: Record<string, string> = {
  'audit-logging': 'EKS audit logging',
  'log-group': 'log group',
  'subscription-filter': 'subscription filter',
  'firehose-stream': 'Firehose stream',
  'kms-key': 'KMS key',
  'iam-role': 'IAM role',
  's3-bucket': 'S3 bucket',
  objects: 'objects arriving',
  'bucket-notification': 'S3 notification',
  'sns-topic': 'SNS topic',
  'topic-policy': 'topic policy',
  'sns-subscriptions': 'SNS subscriptions',
  'forticnapp-integration': 'FortiCNAPP integration',
};

/** `IAM role lw-eks-al-ca-1234abcd` or `subscription filter x (us-east-1)`. */
export function checkLabel(c: Pick<HopCheck, 'check' | 'resource' | 'region'>): string {
  return `${CHECK_LABEL[c.check] ?? c.check} ${c.resource}${c.region !== 'global' ? ` (${c.region})` : ''}`;
}

async function laceworkFor(opts: StatusOptions): Promise<{ lacework?: LaceworkApi; missing?: string }> {
  const { credentials, missing } = await resolveCredentials(
    credentialInputs(opts),
    process.env,
  );
  if (!credentials) return { missing: `no FortiCNAPP credentials given (missing ${missing.join(', ')})` };
  return { lacework: createLaceworkApi(credentials) };
}

async function statusCommand(opts: StatusOptions): Promise<number> {
  const s = startSession(opts);
  const { o } = s;
  try {
    const journal = pickDeployment(s.stateDir, opts.deployment);
    for (const w of journal.warnings) o.err.write(`warning: ${w}\n`);
    const { lacework, missing } = await laceworkFor(opts);
    if (!o.json) o.err.write(o.c.dim(`Checking deployment ${journal.header.deploymentId} hop by hop…\n`));
    const report = await checkDeployment(journal, { awsProfile: opts.awsProfile, lacework, laceworkMissing: missing }, s.signal);
    return renderStatus(s, report);
  } finally {
    s.done();
  }
}

function renderStatus(s: Session, r: StatusReport): number {
  const { o } = s;
  const failing = r.checks.filter((c) => c.state === 'fail');
  const message = r.empty
    ? `Deployment ${r.deploymentId} has nothing left (torn down, or its setup never finished); run setup to build it.`
    : failing.length > 0
      ? `Unhealthy: ${failing.length} hop${failing.length === 1 ? '' : 's'} failing: ${failing.map((c) => `${c.hop} ${checkLabel(c)}`).join('; ')}.`
      : undefined;
  if (o.json) {
    printJson(o, {
      schemaVersion: 1,
      command: 'status',
      status: message ? 'failed' : 'ok',
      deploymentId: r.deploymentId,
      accountId: r.accountId,
      homeRegion: r.homeRegion,
      healthy: !message,
      checks: r.checks,
      journal: r.journalPath,
      ...(message ? { error: { code: r.empty ? 'NothingDeployed' : 'Unhealthy', message } } : {}),
    });
  } else {
    say(o, `Deployment ${r.deploymentId} (AWS account ${r.accountId}, home region ${r.homeRegion})`);
    for (const line of statusLines(o, r.checks)) say(o, line);
    if (message) errorLine(o, message);
    else {
      const unchecked = r.checks.filter((c) => c.state === 'unchecked').length;
      const warned = r.checks.filter((c) => c.state === 'warn').length;
      const notes = [warned ? `${warned} to watch` : '', unchecked ? `${unchecked} not checked` : ''].filter(Boolean).join(', ');
      say(o, o.c.green(`Healthy: every hop checked works${notes ? ` (${notes})` : ''}.`));
    }
  }
  return message ? 1 : 0;
}

/** One line per check, grouped by hop; a failing, doubtful or unchecked one gets its fix underneath. */
export function statusLines(o: Output, checks: HopCheck[]): string[] {
  const lines: string[] = [];
  const mark = { ok: o.c.green('✓'), fail: o.c.red('✗'), warn: o.c.yellow('!'), unchecked: o.c.dim('?') };
  for (const c of checks) {
    lines.push(`${String(c.hop).padStart(2)} ${mark[c.state]} ${checkLabel(c)}: ${c.state === 'ok' ? o.c.dim(c.detail) : c.detail}`);
    if (c.fix && c.state !== 'ok') lines.push(`       ${o.c.dim('fix:')} ${c.fix}`);
  }
  return lines;
}

// --------------------------------------------------------------------------------------- permissions

function permissionsCommand(opts: CommonOptions): number {
  const o = startSession({ ...opts, nonInteractive: true });
  try {
    const policy = permissionsPolicy();
    if (o.o.json) {
      printJson(o.o, { schemaVersion: 1, command: 'permissions', status: 'ok', policy });
    } else {
      // stdout holds only the document, so `permissions > policy.json` is ready for `aws iam create-policy`.
      o.o.err.write(
        o.o.c.dim(
          'The IAM policy for the person running setup, plan, status, list --discover and teardown (details: docs/permissions.md).\n' +
            'Resources are scoped to the default prefix lw-eks-al; with --prefix, replace it. --existing-* resources need the same actions on them.\n',
        ),
      );
      o.o.out.write(JSON.stringify(policy, null, 2) + '\n');
    }
    return 0;
  } finally {
    o.done();
  }
}
