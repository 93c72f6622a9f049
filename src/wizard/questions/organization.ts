/**
 * The organization offer (DESIGN §8, issue 12): when the caller's account manages an AWS Organization, the
 * wizard offers to connect the clusters of every member account (through OrganizationAccountAccessRole),
 * then asks the regions to look in; every ACTIVE cluster there is connected. Flags answer it: `--region-clusters`
 * (one account) or `--organization` / `--accounts` (the cli's organization path, which never runs the wizard).
 */
import { KNOWN_REGIONS } from '../../config/regions.js';
import { envRegion, type Answers, type WizardContext } from '../context.js';

type Ctx = Pick<WizardContext, 'given' | 'prompter' | 'lookups' | 'env' | 'say'>;

/** Sets `a.organization` when the person chooses every member account. */
export async function organization(ctx: Ctx, a: Answers): Promise<void> {
  if (ctx.given.regionClusters) return;
  if (!(await ctx.lookups.managesOrganization())) return;
  const all = await ctx.prompter.confirm({
    message: 'This account manages an AWS Organization. Connect the EKS clusters of every member account (through OrganizationAccountAccessRole)?',
    default: false,
  });
  if (!all) return;
  const start = envRegion(ctx.env);
  const regions = await ctx.prompter.checkbox({
    message: 'Regions to connect every ACTIVE cluster of, in each account:',
    choices: KNOWN_REGIONS.map((r) => ({ value: r, name: r, checked: r === start })),
    validate: (picked) => (picked.length === 0 ? 'Pick at least one region: Space ticks it, Enter confirms.' : undefined),
  });
  a.organization = { regions };
  ctx.say(`Every ACTIVE cluster in ${regions.join(', ')} of every member account will be connected; the plan of each account comes next.`);
}
