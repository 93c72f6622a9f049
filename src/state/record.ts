/**
 * The deployment record (DESIGN §4): what any machine needs to plan, check and tear down a deployment,
 * kept in AWS with the deployment, in SSM Parameter Store of its home region:
 *
 *   /forticnapp-eks-audit/<id>/deployment        the inputs (no secret), external ID, integration id,
 *                                                  where the FortiCNAPP key came from (path or profile name)
 *   /forticnapp-eks-audit/<id>/clusters/<region>  every cluster the deployment has in that region, with its
 *                                                  audit logging before setup first touched it
 *
 * Why Parameter Store: a bucket object is not possible with `--existing-bucket-arn`, nor before the bucket
 * exists; tags hold 256 characters. Standard parameters hold 4 KB, advanced ones 8 KB; "Intelligent-Tiering"
 * picks the cheaper that fits (AWS Systems Manager user guide, "Managing parameter tiers"). One parameter per
 * region keeps a few hundred clusters per region within that. Never a secret in any of it.
 */
import {
  DeleteParametersCommand,
  ParameterAlreadyExists,
  PutParameterCommand,
  paginateGetParametersByPath,
} from '@aws-sdk/client-ssm';
import { AppError } from '../errors.js';
import { isAwsError, isNotFound } from '../aws/errors.js';
import { asKeyValue } from '../aws/tags.js';
import type { AwsClients } from '../aws/clients.js';
import { iamNeeds, type IamNeed } from '../aws/iam.js';
import type { Inputs } from '../config/inputs.js';

export const RECORD_VERSION = 1;

/** Where the FortiCNAPP credentials came from: never the secret. */
export interface CredentialSource {
  account: string;
  subaccount?: string;
  /** Absolute path of the key file. */
  keyFile?: string;
  /** Profile in ~/.lacework.toml. */
  profile?: string;
}

export interface DeploymentRecord {
  v: number;
  deploymentId: string;
  accountId: string;
  prefix: string;
  homeRegion: string;
  /** 'applying' from the first change of a setup until it finished (a crashed run leaves it so). */
  status: 'applying' | 'applied';
  /** The inputs of the newest setup; `regionClusters` are the clusters below. */
  inputs: Omit<Inputs, 'regionClusters'>;
  externalId: string;
  integration?: { intgGuid: string; name: string };
  credentialSource?: CredentialSource;
  /** region -> cluster -> its audit logging before setup first turned it on (null: not known, e.g. found by --discover). */
  clusters: Record<string, Record<string, { auditBefore: boolean | null }>>;
  updatedAt: string;
  tool: string;
}

/** The IAM actions the record needs (`permissions`). */
export const RECORD_IAM: IamNeed[] = iamNeeds('parameter', `
  GetParametersByPathCommand  ssm:GetParametersByPath                | the deployment record
  PutParameterCommand         ssm:PutParameter ssm:AddTagsToResource | the deployment record, tagged
  DeleteParametersCommand     ssm:DeleteParameters                   | teardown
`);

const root = (deploymentId: string) => `/forticnapp-eks-audit/${deploymentId}`;
const MAIN = 'deployment';

/** The record's parameter names and values, as stored. */
function encode(record: DeploymentRecord): Map<string, string> {
  const { clusters, ...main } = record;
  const out = new Map<string, string>([[`${root(record.deploymentId)}/${MAIN}`, JSON.stringify(main)]]);
  for (const [region, map] of Object.entries(clusters)) {
    if (Object.keys(map).length > 0) out.set(`${root(record.deploymentId)}/clusters/${region}`, JSON.stringify(map));
  }
  return out;
}

export interface StoredRecord {
  record: DeploymentRecord;
  /** What is stored now, by parameter name (to write only what changes). */
  stored: Map<string, string>;
}

/**
 * Reads the record of a deployment in one region.
 * @returns undefined when that region has none.
 * @throws AppError `RecordCorrupt` (exit 2) when a parameter is not a record this tool wrote.
 */
export async function readRecord(aws: AwsClients, region: string, deploymentId: string): Promise<StoredRecord | undefined> {
  const client = await aws.ssm(region);
  const stored = new Map<string, string>();
  try {
    for await (const page of paginateGetParametersByPath({ client }, { Path: `${root(deploymentId)}/`, Recursive: true })) {
      for (const p of page.Parameters ?? []) if (p.Name && p.Value !== undefined) stored.set(p.Name, p.Value);
    }
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  const mainText = stored.get(`${root(deploymentId)}/${MAIN}`);
  if (mainText === undefined) return stored.size > 0 ? corrupt(deploymentId, region, 'the main parameter is missing') : undefined;
  let main: Omit<DeploymentRecord, 'clusters'>;
  const clusters: DeploymentRecord['clusters'] = {};
  try {
    main = JSON.parse(mainText) as Omit<DeploymentRecord, 'clusters'>;
    for (const [name, value] of stored) {
      const m = /\/clusters\/([a-z0-9-]+)$/.exec(name);
      if (m) clusters[m[1] as string] = JSON.parse(value) as DeploymentRecord['clusters'][string];
    }
  } catch {
    return corrupt(deploymentId, region, 'a parameter is not JSON');
  }
  if (main.v !== RECORD_VERSION) return corrupt(deploymentId, region, `version ${String(main.v)}`);
  if (main.deploymentId !== deploymentId) return corrupt(deploymentId, region, `it names deployment ${String(main.deploymentId)}`);
  return { record: { ...main, clusters }, stored };
}

function corrupt(deploymentId: string, region: string, why: string): never {
  throw new AppError(
    'RecordCorrupt',
    `The deployment record ${root(deploymentId)} in SSM Parameter Store (${region}) is not one this tool can read (${why}); use the tool version that wrote it, or remove the record and run teardown --discover.`,
    { exitCode: 2 },
  );
}

/**
 * Writes the record: only the parameters whose content changed, and deletes cluster parameters of regions
 * that have none left. `exclusive`: the record must not exist yet (a first-time setup's claim).
 * @returns the stored state afterwards.
 */
export async function writeRecord(
  aws: AwsClients,
  record: DeploymentRecord,
  before: Map<string, string> | undefined,
  tags: Record<string, string>,
  opts: { exclusive?: boolean } = {},
): Promise<Map<string, string>> {
  const client = await aws.ssm(record.homeRegion);
  const next = encode(record);
  for (const [Name, Value] of next) {
    if (before?.get(Name) === Value) continue;
    const Tier = 'Intelligent-Tiering';
    if (!before?.has(Name)) {
      try {
        await client.send(new PutParameterCommand({ Name, Value, Type: 'String', Tier, Overwrite: false, Tags: asKeyValue(tags), Description: 'forticnapp-eks-audit deployment record' }));
        continue;
      } catch (err) {
        if (!(err instanceof ParameterAlreadyExists) && !isAwsError(err, 'ParameterAlreadyExists')) throw err;
        // A first-time setup claims the deployment: another run that claimed it first is not overwritten.
        if (opts.exclusive && Name === `${root(record.deploymentId)}/${MAIN}`) {
          throw new AppError('RecordExists', `Another run wrote the record of deployment ${record.deploymentId} a moment ago.`, { exitCode: 2 });
        }
        // Another run wrote it at the same moment: overwrite (tags cannot go with Overwrite).
      }
    }
    await client.send(new PutParameterCommand({ Name, Value, Type: 'String', Tier, Overwrite: true }));
  }
  const gone = [...(before?.keys() ?? [])].filter((name) => !next.has(name));
  if (gone.length > 0) await deleteParameters(aws, record.homeRegion, gone);
  return next;
}

async function deleteParameters(aws: AwsClients, region: string, names: string[]): Promise<void> {
  const client = await aws.ssm(region);
  for (let i = 0; i < names.length; i += 10) await client.send(new DeleteParametersCommand({ Names: names.slice(i, i + 10) }));
}

/** Deletes every parameter of the record (teardown's last step). */
export async function deleteRecord(aws: AwsClients, region: string, stored: Map<string, string>): Promise<void> {
  if (stored.size > 0) await deleteParameters(aws, region, [...stored.keys()]);
}

/** Every deployment record in one region (`list`): id -> its main part. */
export async function listRecords(aws: AwsClients, region: string): Promise<DeploymentRecord[]> {
  const client = await aws.ssm(region);
  const byId = new Map<string, Map<string, string>>();
  try {
    for await (const page of paginateGetParametersByPath({ client }, { Path: '/forticnapp-eks-audit/', Recursive: true })) {
      for (const p of page.Parameters ?? []) {
        const id = /^\/forticnapp-eks-audit\/([^/]+)\//.exec(p.Name ?? '')?.[1];
        if (!id || p.Value === undefined) continue;
        const m = byId.get(id) ?? new Map<string, string>();
        m.set(p.Name as string, p.Value);
        byId.set(id, m);
      }
    }
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  const out: DeploymentRecord[] = [];
  for (const [id, params] of byId) {
    try {
      const main = JSON.parse(params.get(`${root(id)}/${MAIN}`) ?? 'null') as Omit<DeploymentRecord, 'clusters'> | null;
      if (!main || main.v !== RECORD_VERSION) continue;
      const clusters: DeploymentRecord['clusters'] = {};
      for (const [name, value] of params) {
        const m = /\/clusters\/([a-z0-9-]+)$/.exec(name);
        if (m) clusters[m[1] as string] = JSON.parse(value) as DeploymentRecord['clusters'][string];
      }
      out.push({ ...main, clusters });
    } catch {
      // Not ours to read: skipped.
    }
  }
  return out;
}
