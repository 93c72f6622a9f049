/** The stable keys of every instance (journal records and the graph use them; never rename one). */
export type RoleWhich = 'cross-account' | 'firehose' | 'cloudwatch';

export const KEYS = {
  role: (which: RoleWhich) => `iam-role/${which}`,
  kmsKey: 'kms-key',
  bucket: 's3-bucket',
  topic: 'sns-topic',
  notification: 's3-bucket-notification',
  stream: 'firehose-stream',
  integration: 'forticnapp-integration',
  subscription: 'sns-subscription',
  auditLogging: (region: string, cluster: string) => `eks-audit-logging/${region}/${cluster}`,
  logGroup: (region: string, cluster: string) => `log-group/${region}/${cluster}`,
  filter: (region: string, cluster: string) => `subscription-filter/${region}/${cluster}`,
} as const;
