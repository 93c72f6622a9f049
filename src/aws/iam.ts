/**
 * How a module declares the AWS calls it makes and the IAM actions they need; `permissions` builds the
 * policy for the person running the tool from these declarations (src/provision/permissions.ts).
 */

/** Which resources an action is granted on (resources named with the prefix where the action allows it). */
export type Scope =
  | 'any'
  | 'eks-cluster'
  | 'eks-log-group'
  | 'any-log-group'
  | 'role'
  | 'pass-role'
  | 'kms-key'
  | 'kms-alias'
  | 'bucket'
  | 'object'
  | 'topic'
  | 'stream'
  | 'parameter'
  | 'queue'
  | 'assume-role';

/** One SDK command and the IAM actions it needs. */
export interface IamNeed {
  /** The SDK command, e.g. `PutBucketPolicyCommand` (test/unit/permissions.test.ts checks every one sent is listed). */
  command: string;
  actions: string[];
  scope: Scope;
  /** Why the tool sends it (shown in docs/permissions.md). */
  why: string;
}
