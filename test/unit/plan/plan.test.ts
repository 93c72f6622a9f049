/** The pure plan: what the finds said -> create / keep / change per resource, and its text form. */
import { describe, expect, it } from 'vitest';
import { buildPlan, counts, isUpToDate, type Plan } from '../../../src/plan/plan.js';
import { formatPlan, kindLabel } from '../../../src/plan/format.js';
import type { PlannedTask } from '../../../src/provision/engine.js';
import type { ResourceKind, Task } from '../../../src/provision/step.js';

function task(kind: ResourceKind, region: string, name: string): Task {
  return { key: `${kind}/${region}/${name}`, kind, region, name, needs: [], find: async () => undefined, create: async () => ({ id: name }) };
}

const base = { deploymentId: '1a2b3c4d', accountId: '123456789012', homeRegion: 'eu-central-1', conflicts: [] };

describe('buildPlan', () => {
  const planned: PlannedTask[] = [
    { task: task('iam-role', 'global', 'lw-eks-al-ca-1a2b3c4d'), action: 'create' },
    { task: task('log-group', 'us-east-1', '/aws/eks/edge/cluster'), action: 'keep', found: { ref: { id: '/aws/eks/edge/cluster' } } },
    {
      task: task('iam-role', 'global', 'lw-eks-al-cw-1a2b3c4d'),
      action: 'change',
      found: { ref: { id: 'lw-eks-al-cw-1a2b3c4d' }, drift: 'trust CloudWatch Logs in us-east-1', before: {} },
    },
    { task: task('subscription-filter', 'eu-central-1', 'lw-eks-al-prod-eks-cw-1a2b3c4d'), action: 'create' },
  ];
  const plan = buildPlan(base, planned);

  it('keeps one item per task, in order, with the drift as the detail of a change', () => {
    expect(plan.items.map((i) => [i.kind, i.region, i.name, i.action, i.detail])).toEqual([
      ['iam-role', 'global', 'lw-eks-al-ca-1a2b3c4d', 'create', undefined],
      ['log-group', 'us-east-1', '/aws/eks/edge/cluster', 'keep', undefined],
      ['iam-role', 'global', 'lw-eks-al-cw-1a2b3c4d', 'change', 'trust CloudWatch Logs in us-east-1'],
      ['subscription-filter', 'eu-central-1', 'lw-eks-al-prod-eks-cw-1a2b3c4d', 'create', undefined],
    ]);
    expect(plan.items.every((i) => i.key === `${i.kind}/${i.region}/${i.name}`)).toBe(true);
  });

  it('counts and says when nothing is left to do', () => {
    expect(counts(plan)).toEqual({ create: 2, keep: 1, change: 1 });
    expect(isUpToDate(plan)).toBe(false);
    expect(isUpToDate({ ...plan, items: plan.items.map((i) => ({ ...i, action: 'keep' as const })) })).toBe(true);
    expect(isUpToDate({ ...plan, items: [] })).toBe(true);
  });
});

describe('formatPlan', () => {
  const plan: Plan = {
    ...base,
    items: [
      { key: 'a', kind: 'subscription-filter', region: 'us-east-1', name: 'f-edge', action: 'create' },
      { key: 'b', kind: 'eks-audit-logging', region: 'eu-central-1', name: 'prod', action: 'create' },
      { key: 'c', kind: 'iam-role', region: 'global', name: 'role-cw', action: 'change', detail: 'trust CloudWatch Logs in us-east-1' },
      { key: 'd', kind: 'log-group', region: 'eu-central-1', name: '/aws/eks/prod/cluster', action: 'keep' },
    ],
    conflicts: ['Log group /aws/eks/x/cluster already has 2 subscription filters'],
  };

  it('groups by region, global first, and names every resource with its verb', () => {
    expect(formatPlan(plan)).toEqual([
      'Deployment 1a2b3c4d in AWS account 123456789012 (home region eu-central-1)',
      'global:',
      '  ~ change IAM role role-cw (trust CloudWatch Logs in us-east-1)',
      'eu-central-1:',
      '  + enable EKS audit logging prod',
      '  = keep   log group /aws/eks/prod/cluster',
      'us-east-1:',
      '  + create subscription filter f-edge',
      '2 to create, 1 to change, 1 to keep.',
      'Conflicts:',
      '  ! Log group /aws/eks/x/cluster already has 2 subscription filters',
    ]);
  });

  it('labels every resource kind for people', () => {
    expect(kindLabel('forticnapp-integration')).toBe('FortiCNAPP integration');
    expect(kindLabel('s3-bucket-notification')).toBe('S3 notification');
    expect(kindLabel('something-new')).toBe('something-new');
  });
});
