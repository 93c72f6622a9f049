/**
 * AWS Organizations (DESIGN §8): the member accounts of the organization (or of some OUs), and clients
 * that act in a member account through an assumed role (`OrganizationAccountAccessRole` by default;
 * `AWSControlTowerExecution` under Control Tower).
 */
import {
  DescribeOrganizationCommand,
  paginateListAccounts,
  paginateListAccountsForParent,
  paginateListOrganizationalUnitsForParent,
  type Account,
} from '@aws-sdk/client-organizations';
import { UsageError } from '../errors.js';
import { createAwsClients, type AwsClients } from './clients.js';
import { describeAwsError, isAccessDenied, isAwsError } from './errors.js';
import { iamNeeds, type IamNeed } from './iam.js';

export const ORG_IAM: IamNeed[] = iamNeeds('any', `
  DescribeOrganizationCommand              organizations:DescribeOrganization             | the wizard: whether this is an organization’s management (or delegated) account
  ListAccountsCommand                      organizations:ListAccounts                     | --organization: every member account
  ListAccountsForParentCommand             organizations:ListAccountsForParent            | --ou: the accounts of an OU
  ListOrganizationalUnitsForParentCommand  organizations:ListOrganizationalUnitsForParent | --ou: the OUs inside an OU
  AssumeRoleCommand                        sts:AssumeRole @assume-role                    | act in each member account through --assume-role-name
`);

/** A member account. */
export interface OrgAccount {
  id: string;
  name: string;
}

function active(a: Account): boolean {
  // `Status` is deprecated in favour of `State` (2025); either says whether the account is usable.
  const state = (a as Account & { State?: string }).State ?? a.Status;
  return state === undefined || state === 'ACTIVE';
}

/**
 * The organization's ACTIVE accounts (the caller's own included), or those under the given OUs (nested OUs
 * included), without the excluded ones. Sorted by id.
 * @throws UsageError `NotAnOrganization` / `OrganizationsDenied` (exit 2) when the caller cannot list them.
 */
export async function organizationAccounts(aws: AwsClients, opts: { ous?: string[]; exclude?: string[] }): Promise<OrgAccount[]> {
  const client = await aws.organizations();
  const found = new Map<string, OrgAccount>();
  const add = (a: Account) => {
    if (a.Id && active(a)) found.set(a.Id, { id: a.Id, name: a.Name ?? a.Id });
  };
  try {
    if (opts.ous?.length) {
      const walkOu = async (parentId: string): Promise<void> => {
        for await (const page of paginateListAccountsForParent({ client }, { ParentId: parentId })) (page.Accounts ?? []).forEach(add);
        for await (const page of paginateListOrganizationalUnitsForParent({ client }, { ParentId: parentId })) {
          for (const ou of page.OrganizationalUnits ?? []) if (ou.Id) await walkOu(ou.Id);
        }
      };
      for (const ou of opts.ous) await walkOu(ou);
    } else {
      for await (const page of paginateListAccounts({ client }, {})) (page.Accounts ?? []).forEach(add);
    }
  } catch (err) {
    if (isAwsError(err, 'AWSOrganizationsNotInUseException')) {
      throw new UsageError('This AWS account is not in an organization; drop --organization (or name the accounts with --accounts).', 'NotAnOrganization');
    }
    if (isAccessDenied(err) || isAwsError(err, 'AccessDeniedException')) {
      throw new UsageError(
        `Cannot list the organization's accounts (${describeAwsError(err)}): run from the management account or a delegated administrator, or name the accounts with --accounts.`,
        'OrganizationsDenied',
      );
    }
    if (isAwsError(err, 'ParentNotFoundException')) throw new UsageError(`--ou: ${describeAwsError(err)}; check the OU id (ou-…).`, 'BadInput');
    throw err;
  }
  for (const id of opts.exclude ?? []) found.delete(id);
  return [...found.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** Whether the caller's account manages an organization (the wizard offers --organization then). */
export async function managesOrganization(aws: AwsClients, accountId: string): Promise<boolean> {
  try {
    const org = (await (await aws.organizations()).send(new DescribeOrganizationCommand({}))).Organization;
    return org?.MasterAccountId === accountId;
  } catch {
    return false;
  }
}

/**
 * Clients acting in a member account: the caller's credentials assume `arn:aws:iam::<id>:role/<roleName>`
 * (renewed as they expire). The caller's own account is used as it is.
 */
export async function memberClients(base: AwsClients, callerAccountId: string, accountId: string, roleName: string, region: string): Promise<AwsClients> {
  if (accountId === callerAccountId) return base;
  const { fromTemporaryCredentials, fromIni } = await import('./sdk/credential-providers.js');
  const masterCredentials = base.options.credentials ?? (base.options.profile ? fromIni({ profile: base.options.profile }) : undefined);
  const credentials = fromTemporaryCredentials({
    params: { RoleArn: `arn:aws:iam::${accountId}:role/${roleName}`, RoleSessionName: 'forticnapp-eks-audit', DurationSeconds: 3600 },
    ...(masterCredentials ? { masterCredentials } : {}),
    clientConfig: { region },
  });
  return createAwsClients({ ...base.options, profile: undefined, credentials });
}
