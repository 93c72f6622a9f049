/** Plan -> lines of text, grouped by region (global first). */
import { counts, type Plan } from './plan.js';

const LABEL: Record<string, string> = {
  'eks-audit-logging': 'EKS audit logging',
  'log-group': 'log group',
  'iam-role': 'IAM role',
  'kms-key': 'KMS key',
  's3-bucket': 'S3 bucket',
  'sns-topic': 'SNS topic',
  's3-bucket-notification': 'S3 notification',
  'firehose-stream': 'Firehose stream',
  'subscription-filter': 'subscription filter',
  'forticnapp-integration': 'FortiCNAPP integration',
  'sns-subscription': 'SNS subscription',
};

export const kindLabel = (kind: string) => LABEL[kind] ?? kind;

export function formatPlan(plan: Plan): string[] {
  const lines: string[] = [];
  const regions = [...new Set(plan.items.map((i) => i.region))].sort((a, b) => (a === 'global' ? -1 : b === 'global' ? 1 : a.localeCompare(b)));
  lines.push(`Deployment ${plan.deploymentId} in AWS account ${plan.accountId} (home region ${plan.homeRegion})`);
  for (const region of regions) {
    lines.push(region === 'global' ? 'global:' : `${region}:`);
    for (const i of plan.items.filter((x) => x.region === region)) {
      const verb = i.action === 'create' ? (i.kind === 'eks-audit-logging' ? '+ enable' : '+ create') : i.action === 'change' ? '~ change' : '= keep  ';
      lines.push(`  ${verb} ${kindLabel(i.kind)} ${i.name}${i.detail ? ` (${i.detail})` : ''}`);
    }
  }
  const c = counts(plan);
  lines.push(`${c.create} to create, ${c.change} to change, ${c.keep} to keep.`);
  if (plan.conflicts.length > 0) {
    lines.push('Conflicts:');
    for (const p of plan.conflicts) lines.push(`  ! ${p}`);
  }
  return lines;
}
