/** The tags every taggable resource carries, in the shapes the different AWS APIs want. */
import { MANAGED_BY, TAG_DEPLOYMENT, TAG_MANAGED_BY } from '../config/naming.js';

/** Our two tag keys. */
export const TAG_KEYS = { deployment: TAG_DEPLOYMENT, managedBy: TAG_MANAGED_BY } as const;

export function resourceTags(deploymentId: string, extra: Record<string, string>): Record<string, string> {
  return { ...extra, [TAG_DEPLOYMENT]: deploymentId, [TAG_MANAGED_BY]: MANAGED_BY };
}

export const asKeyValue = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
export const asTagKeyValue = (tags: Record<string, string>) =>
  Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));

export function hasDeploymentTag(tags: { Key?: string; Value?: string }[] | undefined, deploymentId: string): boolean {
  return (tags ?? []).some((t) => t.Key === TAG_DEPLOYMENT && t.Value === deploymentId);
}

/** Tags as a map, from any of the shapes the APIs return. */
export function tagMap(tags: { Key?: string; Value?: string; TagKey?: string; TagValue?: string }[] | Record<string, string> | undefined): Record<string, string> {
  if (!tags) return {};
  if (!Array.isArray(tags)) return { ...tags };
  const out: Record<string, string> = {};
  for (const t of tags) {
    const k = t.Key ?? t.TagKey;
    if (k !== undefined) out[k] = t.Value ?? t.TagValue ?? '';
  }
  return out;
}

/**
 * The part of a resource's tags this deployment manages: the keys it sets now, and the `--tag` keys an
 * earlier setup set that the inputs dropped (`dropped`). Tags someone else put on the resource are theirs.
 */
export function managedTags(current: Record<string, string>, desired: Record<string, string>, dropped: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...Object.keys(desired), ...dropped]) if (current[k] !== undefined) out[k] = current[k] as string;
  return out;
}

/** Keys to remove so that the managed tags become `desired`. */
export function tagsToRemove(current: Record<string, string>, desired: Record<string, string>): string[] {
  return Object.keys(current).filter((k) => desired[k] === undefined);
}
