/**
 * How a module declares the AWS calls it makes and the IAM actions they need; `permissions` builds the
 * policy for the person running the tool from these declarations (src/provision/permissions.ts).
 */

/** Which resources an action is granted on (resources named with the prefix where the action allows it). */
export const SCOPES = [
  'any',
  'eks-cluster',
  'eks-log-group',
  'any-log-group',
  'role',
  'pass-role',
  'kms-key',
  'kms-alias',
  'bucket',
  'object',
  'topic',
  'stream',
  'parameter',
  'queue',
  'assume-role',
] as const;
export type Scope = (typeof SCOPES)[number];

/** One SDK command and the IAM actions it needs. */
export interface IamNeed {
  /** The SDK command, e.g. `PutBucketPolicyCommand` (test/unit/permissions.test.ts checks every one sent is listed). */
  command: string;
  actions: string[];
  scope: Scope;
  /** Why the tool sends it (shown in docs/permissions.md). */
  why: string;
}

const ACTION = /^[a-z0-9-]+:[A-Za-z*]+$/;

/**
 * Reads a module's table of calls, one line a call: the SDK command, the IAM actions it needs (none for a
 * call that needs no permission), `@scope` where the actions are granted on other resources than
 * `scope`'s, then `|` and why the tool sends it. Blank lines are skipped.
 *
 *     iamNeeds('role', `
 *       GetRoleCommand     iam:GetRole                  | the role, its trust policy and tags
 *       CreateRoleCommand  iam:CreateRole iam:TagRole   | the roles, tagged
 *       ListRolesCommand   iam:ListRoles  @any          | discovery
 *     `)
 *
 * @returns one `IamNeed` a line, in order.
 * @throws Error naming the line when it is not of that form (a mistake in the source, found when the module loads).
 */
export function iamNeeds(scope: Scope, table: string): IamNeed[] {
  return table
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const bar = line.indexOf('|');
      const [command, ...rest] = line.slice(0, Math.max(bar, 0)).trim().split(/\s+/);
      const at = rest.find((word) => word.startsWith('@'))?.slice(1) ?? scope;
      const actions = rest.filter((word) => !word.startsWith('@'));
      const why = line.slice(bar + 1).trim();
      if (bar < 0 || !/^[A-Z]\w+$/.test(command ?? '') || why === '' || !actions.every((a) => ACTION.test(a)) || !(SCOPES as readonly string[]).includes(at)) {
        throw new Error(`iamNeeds: a line is not 'Command action… [@scope] | why': ${line}`);
      }
      return { command: command as string, actions, scope: at as Scope, why };
    });
}
