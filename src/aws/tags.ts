/** The tags every taggable resource carries, in the shapes the different AWS APIs want. */
import { MANAGED_BY, TAG_DEPLOYMENT, TAG_MANAGED_BY } from '../config/naming.js';

export function resourceTags(deploymentId: string, extra: Record<string, string>): Record<string, string> {
  return { ...extra, [TAG_DEPLOYMENT]: deploymentId, [TAG_MANAGED_BY]: MANAGED_BY };
}

export const asKeyValue = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
export const asTagKeyValue = (tags: Record<string, string>) =>
  Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));

export function hasDeploymentTag(tags: { Key?: string; Value?: string }[] | undefined, deploymentId: string): boolean {
  return (tags ?? []).some((t) => t.Key === TAG_DEPLOYMENT && t.Value === deploymentId);
}
