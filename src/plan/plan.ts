/** Pure: what the finds said -> a plan of create / keep / change per resource, plus conflicts. */
import type { PlannedTask } from '../provision/engine.js';
import type { ResourceKind } from '../provision/step.js';

export interface PlanItem {
  key: string;
  kind: ResourceKind;
  region: string;
  name: string;
  action: 'create' | 'keep' | 'change';
  /** For a change: what will change. */
  detail?: string;
}

export interface Plan {
  deploymentId: string;
  accountId: string;
  homeRegion: string;
  items: PlanItem[];
  conflicts: string[];
}

export function buildPlan(base: Omit<Plan, 'items'>, planned: PlannedTask[]): Plan {
  return {
    ...base,
    items: planned.map(({ task, action, found }) => ({
      key: task.key,
      kind: task.kind,
      region: task.region,
      name: task.name,
      action,
      ...(action === 'change' && found?.drift ? { detail: found.drift } : {}),
    })),
  };
}

export function counts(plan: Plan): Record<PlanItem['action'], number> {
  const c = { create: 0, keep: 0, change: 0 };
  for (const i of plan.items) c[i.action]++;
  return c;
}

export const isUpToDate = (plan: Plan) => plan.items.every((i) => i.action === 'keep');
