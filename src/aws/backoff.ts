/**
 * The test and benchmark hook that scales every backoff and wait of the tool: the SDK's retry delays,
 * eventual-consistency retries and polling. `FORTICNAPP_EKS_AUDIT_BACKOFF_SCALE=0.02` under moto, where
 * nothing is slow; unset (1) in the product, whose real limits are the ones docs/troubleshooting.md states.
 */
export function backoffScale(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.FORTICNAPP_EKS_AUDIT_BACKOFF_SCALE ?? '1');
  return Number.isFinite(s) && s > 0 ? s : 1;
}
