/**
 * Saved answers (reference/lacework.md §1.3: "Previous IaC generation detected, load cached values?", default
 * No), scoped to the AWS account: when this account has answers from an earlier run, show them in one line and
 * offer them as the defaults of every later question.
 */
import { loadAnswers } from '../answers.js';
import type { Answers, WizardContext } from '../context.js';
import { QUESTIONS as Q } from './shared.js';

/** `region: a, b; region: c`, for the one-line summary. */
export function describeRegionClusters(rc: Record<string, string[]>): string {
  const parts = Object.entries(rc).map(([r, c]) => `${r}: ${c.join(', ')}`);
  return parts.length > 0 ? parts.join('; ') : 'no clusters';
}

/**
 * Offers this account's saved answers; sets `a.saved` when the person takes them. Asks nothing when there are none.
 * @throws UserAbort on Ctrl+C.
 */
export async function savedAnswers(ctx: Pick<WizardContext, 'prompter' | 'say' | 'stateDir'>, a: Answers): Promise<void> {
  const found = loadAnswers(ctx.stateDir, a.accountId);
  if (!found) return;
  const when = found.savedAt ? ` (saved ${found.savedAt.slice(0, 16).replace('T', ' ')} UTC)` : '';
  ctx.say(`Previous answers for AWS account ${found.accountId}${when}: ${describeRegionClusters(found.regionClusters)}.`);
  if (await ctx.prompter.confirm({ message: Q.loadSaved.message, default: false })) a.saved = found;
}
