/** Checks of the flags that name a deployment (status, teardown, list), shared by those commands. */
import { DEPLOYMENT_ID_SHAPE } from '../config/naming.js';
import { checkPrefix, checkRegion } from '../config/validate.js';

/** Checks the flags of teardown and status. @returns the problems, one line each. */
export function deploymentFlagProblems(opts: { deployment?: string; prefix?: string; region?: string[] }): string[] {
  const problems: string[] = [];
  for (const r of opts.region ?? []) {
    const p = checkRegion(r);
    if (p) problems.push(`--region: ${p}`);
  }
  if (opts.prefix !== undefined) {
    const p = checkPrefix(opts.prefix);
    if (p) problems.push(p);
  }
  if (opts.deployment !== undefined && !DEPLOYMENT_ID_SHAPE.test(opts.deployment)) {
    problems.push(`--deployment '${opts.deployment}' is not a deployment id (8 hex characters, as in the resource names, e.g. lw-eks-al-ca-1a2b3c4d).`);
  }
  return problems;
}

