/**
 * Regions and clusters (reference/lacework.md §1.4 R1-R4, its bugs fixed): more than one region? -> a region,
 * picked from the list of regions (AWS_REGION or the saved region first; typing jumps to a name; "type it"
 * for a name not listed) -> its clusters, ticked in a checkbox that shows each one's audit logging state (or
 * typed, when listing is denied) -> another region? A region where nothing could be ticked is refused with the
 * reason, and shown disabled when the list comes back. `--region-clusters` answers the whole group.
 */
import { KNOWN_REGIONS } from '../../config/regions.js';
import { checkRegion, splitClusters } from '../../config/validate.js';
import type { SavedAnswers } from '../answers.js';
import { envRegion, type Answers, type ClusterInfo, type WizardContext } from '../context.js';
import type { Choice } from '../prompter.js';
import { QUESTIONS as Q, checkAbort, validateRegion } from './shared.js';

type Ctx = Pick<WizardContext, 'given' | 'prompter' | 'lookups' | 'say' | 'env' | 'signal'>;

/** The value of the "type a region name" entry (never a region name: those have digits). */
const TYPE_IT = 'type-it';

/**
 * Sets `a.setup.regionClusters` and `a.multiRegion`; asks nothing when `--region-clusters` gave them.
 * @throws UserAbort on Ctrl+C (at a question, or during a lookup: the session signal).
 */
export async function regions(ctx: Ctx, a: Answers): Promise<void> {
  if (ctx.given.regionClusters) {
    a.setup.regionClusters = ctx.given.regionClusters;
    a.multiRegion = Object.keys(ctx.given.regionClusters).length > 1;
    return;
  }
  const saved = a.saved;
  const savedRegions = Object.keys(saved?.regionClusters ?? {});
  a.multiRegion = await ctx.prompter.confirm({
    message: Q.multiRegion.message,
    default: saved ? savedRegions.length > 1 || saved.multiRegion : false,
  });
  const chosen: Record<string, string[]> = {};
  for (let i = 0; ; i++) {
    checkAbort(ctx.signal);
    const preferred = savedRegions[i] ?? (i === 0 ? envRegion(ctx.env) : undefined);
    const { region, clusters } = await regionAndClusters(ctx, i, preferred, chosen, saved);
    chosen[region] = clusters;
    if (!a.multiRegion) break;
    checkAbort(ctx.signal);
    if (!(await ctx.prompter.confirm({ message: Q.anotherRegion.message, default: i + 1 < savedRegions.length }))) break;
  }
  a.setup.regionClusters = chosen;
}

/** Why no cluster of a region could be ticked: a line to say, and a few words for the region list. */
function unusable(region: string, clusters: ClusterInfo[], auditLocked: boolean): { line: string; short: string } | undefined {
  if (clusters.length === 0) return { line: `There are no EKS clusters in ${region}; pick the region your clusters run in.`, short: 'no EKS clusters' };
  const active = clusters.filter((c) => c.status === 'ACTIVE' || c.status === undefined);
  if (active.length === 0) {
    return {
      line: `No EKS cluster in ${region} is ACTIVE (${clusters.map((c) => `${c.name}: ${c.status}`).join(', ')}); wait until one is, or pick another region.`,
      short: 'no ACTIVE cluster',
    };
  }
  if (auditLocked && active.every((c) => c.auditEnabled === false)) {
    return {
      line: `Audit logging is off on every EKS cluster in ${region} and --no-enable-audit-logging was given; drop that flag to let setup turn it on, or pick another region.`,
      short: 'audit logging off on every cluster',
    };
  }
  return undefined;
}

/** One pass of the region loop: a region whose clusters can be picked (or typed), and the clusters. */
async function regionAndClusters(
  ctx: Ctx,
  index: number,
  preferred: string | undefined,
  chosen: Record<string, string[]>,
  saved: SavedAnswers | undefined,
): Promise<{ region: string; clusters: string[] }> {
  const auditLocked = ctx.given.enableAuditLogging === false;
  const refused = new Map<string, string>();
  for (;;) {
    checkAbort(ctx.signal);
    const region = await pickRegion(ctx, index, preferred, chosen, refused);
    const listing = await ctx.lookups.clusters(region);
    checkAbort(ctx.signal);
    const savedClusters = saved?.regionClusters[region] ?? [];
    if ('failed' in listing) {
      ctx.say(`Cannot list the EKS clusters in ${region} (${listing.failed}); pick another region.`);
      refused.set(region, 'its clusters cannot be listed');
      continue;
    }
    if ('denied' in listing) {
      ctx.say(`Cannot list the EKS clusters in ${region} (listing is not allowed: ${listing.denied}); type their names instead.`);
      return { region, clusters: await typeClusters(ctx, region, savedClusters, auditLocked) };
    }
    const why = unusable(region, listing.clusters, auditLocked);
    if (why) {
      ctx.say(why.line);
      refused.set(region, why.short);
      continue;
    }
    return { region, clusters: await pickClusters(ctx, region, listing.clusters, savedClusters, auditLocked) };
  }
}

/** The region question: a list (the preferred region first), or a typed name. */
async function pickRegion(
  ctx: Ctx,
  index: number,
  preferred: string | undefined,
  chosen: Record<string, string[]>,
  refused: Map<string, string>,
): Promise<string> {
  const first = preferred && !checkRegion(preferred) && !chosen[preferred] ? preferred : undefined;
  const order = [...(first ? [first] : []), ...KNOWN_REGIONS.filter((r) => r !== first && !chosen[r])];
  const choices: Choice<string>[] = order.map((r) => ({ value: r, name: r, ...(refused.has(r) ? { disabled: refused.get(r) } : {}) }));
  choices.push({ value: TYPE_IT, name: 'Another region: type its name', short: 'another region' });
  const message = index === 0 ? Q.region.message : 'Next AWS region:';
  const start = first && !refused.has(first) ? first : choices.find((c) => !c.disabled)?.value;
  const picked = await ctx.prompter.select<string>({ message, choices, ...(start ? { default: start } : {}) });
  if (picked !== TYPE_IT) return picked;
  return ctx.prompter.input({
    message: Q.typedRegion.message,
    validate(value) {
      const bad = validateRegion(value);
      if (bad) return bad;
      if (chosen[value]) return `${value} is already configured; type another region.`;
      const why = refused.get(value);
      return why ? `${value}: ${why}; type another region.` : undefined;
    },
  });
}

/** The cluster checkbox: every cluster with its audit state; clusters that cannot be used are shown, disabled. */
async function pickClusters(ctx: Ctx, region: string, clusters: ClusterInfo[], savedClusters: string[], auditLocked: boolean): Promise<string[]> {
  const width = Math.max(...clusters.map((c) => c.name.length));
  const choices: Choice<string>[] = clusters.map((c) => {
    const audit =
      c.auditEnabled === undefined
        ? 'audit logging: unknown'
        : c.auditEnabled
          ? 'audit logging on'
          : auditLocked
            ? 'audit logging off'
            : 'audit logging off (setup turns it on)';
    const notActive = c.status !== undefined && c.status !== 'ACTIVE' ? `${c.status}, not ACTIVE` : undefined;
    const blocked = c.auditEnabled === false && auditLocked ? 'audit logging off and --no-enable-audit-logging given' : undefined;
    return {
      value: c.name,
      name: `${c.name.padEnd(width)}  ${audit}`,
      short: c.name,
      checked: savedClusters.includes(c.name) && !notActive && !blocked,
      ...(notActive || blocked ? { disabled: notActive ?? blocked } : {}),
    };
  });
  return ctx.prompter.checkbox({
    message: Q.clusters.message(region),
    choices,
    validate: (picked) => (picked.length === 0 ? 'Pick at least one cluster: Space ticks it, Enter confirms.' : undefined),
  });
}

/** Cluster names typed (listing denied): each validated like `--region-clusters`, then looked up one by one. */
async function typeClusters(ctx: Ctx, region: string, savedClusters: string[], auditLocked: boolean): Promise<string[]> {
  const typed = await ctx.prompter.input({
    message: Q.clusterNames.message(region),
    ...(savedClusters.length > 0 ? { default: savedClusters.join(',') } : {}),
    async validate(value) {
      const bad = Q.clusterNames.validate(value);
      if (bad) return bad;
      const problems: string[] = [];
      for (const name of splitClusters(value)) {
        const c = await ctx.lookups.describeCluster(region, name);
        if (c === 'not-found') problems.push(`EKS cluster '${name}' was not found in ${region}; check the name (aws eks list-clusters --region ${region}).`);
        else if ('denied' in c) continue; // may not look: preflight tells if it is wrong
        else if (c.status !== undefined && c.status !== 'ACTIVE') problems.push(`EKS cluster '${name}' is ${c.status}, not ACTIVE; wait until it is ACTIVE, or leave it out.`);
        else if (c.auditEnabled === false && auditLocked) problems.push(`Audit logging is off on '${name}' and --no-enable-audit-logging was given; leave it out.`);
      }
      return problems.length > 0 ? problems.join(' ') : undefined;
    },
  });
  return splitClusters(typed);
}
