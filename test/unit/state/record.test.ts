/**
 * The deployment record in SSM Parameter Store (DESIGN §4), through a fake SSM client (a real SSMClient
 * object whose `send` answers from an in-memory store, so the SDK's paginator runs and no request leaves the
 * process): how it is split into parameters, written (only what changed; tagged on create; a parameter
 * another run wrote first is overwritten), read back across pages, listed, deleted, and refused when it is
 * not a record this tool wrote.
 */
import {
  DeleteParametersCommand,
  GetParametersByPathCommand,
  ParameterAlreadyExists,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../src/aws/clients.js';
import { AppError } from '../../../src/errors.js';
import { deleteRecord, listRecords, readRecord, RECORD_VERSION, writeRecord, type DeploymentRecord } from '../../../src/state/record.js';
import { baseInputs } from '../provision/fake-types.js';

interface Param {
  value: string;
  tags?: { Key?: string; Value?: string }[];
}

/** Parameter Store of each region, and every call made, as `<region> <Command> <name…>`. */
let stores: Map<string, Map<string, Param>>;
let calls: string[];
/** Parameters "another run" writes just before our PutParameter of the same name. */
let raced: Set<string>;

function send(region: string) {
  const store = () => {
    let s = stores.get(region);
    if (!s) stores.set(region, (s = new Map()));
    return s;
  };
  return async (command: unknown): Promise<unknown> => {
    if (command instanceof GetParametersByPathCommand) {
      const { Path = '', NextToken } = command.input;
      calls.push(`${region} GetParametersByPath ${Path}${NextToken ? ` @${NextToken}` : ''}`);
      const all = [...store().entries()].filter(([name]) => name.startsWith(Path)).sort(([a], [b]) => a.localeCompare(b));
      // Two per page, so that reading needs the paginator.
      const from = Number(NextToken ?? 0);
      const page = all.slice(from, from + 2);
      return { Parameters: page.map(([Name, p]) => ({ Name, Value: p.value })), ...(from + 2 < all.length ? { NextToken: String(from + 2) } : {}) };
    }
    if (command instanceof PutParameterCommand) {
      const { Name = '', Value = '', Overwrite, Tags } = command.input;
      calls.push(`${region} PutParameter ${Name}${Overwrite ? ' (overwrite)' : ''}`);
      if (raced.delete(Name)) store().set(Name, { value: '{"other":"run"}' });
      if (!Overwrite && store().has(Name)) throw new ParameterAlreadyExists({ message: `The parameter already exists.`, $metadata: { httpStatusCode: 400 } });
      if (Overwrite && Tags) throw new Error('tags cannot go with Overwrite (ValidationException)');
      store().set(Name, { value: Value, ...(Tags ? { tags: Tags } : store().get(Name)?.tags ? { tags: store().get(Name)?.tags } : {}) });
      return {};
    }
    if (command instanceof DeleteParametersCommand) {
      const names = command.input.Names ?? [];
      if (names.length > 10) throw new Error('at most 10 names per DeleteParameters');
      calls.push(`${region} DeleteParameters ${names.join(' ')}`);
      for (const n of names) store().delete(n);
      return { DeletedParameters: names };
    }
    throw new Error(`unexpected ${(command as object).constructor.name}`);
  };
}

const aws = {
  ssm: async (region: string) => Object.assign(Object.create(SSMClient.prototype) as SSMClient, { send: send(region) }),
} as unknown as AwsClients;

beforeEach(() => {
  stores = new Map();
  calls = [];
  raced = new Set();
});

const ROOT = '/forticnapp-eks-audit/1b3c2d59';

function record(over: Partial<DeploymentRecord> = {}): DeploymentRecord {
  const { regionClusters: _, ...inputs } = baseInputs({ homeRegion: 'eu-central-1', tags: { team: 'sec' } });
  return {
    v: RECORD_VERSION,
    deploymentId: '1b3c2d59',
    accountId: '123456789012',
    prefix: 'lw-eks-al',
    homeRegion: 'eu-central-1',
    status: 'applied',
    inputs,
    externalId: 'lweid:aws:v2:acme:123456789012:abcdefghij',
    integration: { intgGuid: 'ACME_1234', name: 'EKS Audit Log 123456789012' },
    credentialSource: { account: 'acme', keyFile: '/home/u/key.json' },
    clusters: { 'eu-central-1': { prod: { auditBefore: false }, dev: { auditBefore: true } }, 'us-east-1': { edge: { auditBefore: null } } },
    updatedAt: '2026-11-30T00:00:00.000Z',
    tool: 'forticnapp-eks-audit/0.1.0',
    ...over,
  };
}

const tags = { 'forticnapp-eks-audit:deployment': '1b3c2d59', 'forticnapp-eks-audit:managed-by': 'forticnapp-eks-audit' };
const param = (name: string) => stores.get('eu-central-1')?.get(name);

describe('deployment record', () => {
  it('is stored in the home region as one main parameter plus one per region of clusters, tagged, no secret in it', async () => {
    const stored = await writeRecord(aws, record(), undefined, tags);
    expect([...stored.keys()].sort()).toEqual([`${ROOT}/clusters/eu-central-1`, `${ROOT}/clusters/us-east-1`, `${ROOT}/deployment`]);
    expect([...(stores.get('eu-central-1')?.keys() ?? [])].sort()).toEqual([...stored.keys()].sort());
    expect(stores.has('us-east-1')).toBe(false);
    const main = JSON.parse(param(`${ROOT}/deployment`)?.value ?? '{}') as Record<string, unknown>;
    expect(main.clusters).toBeUndefined();
    expect(main).toMatchObject({ v: 1, deploymentId: '1b3c2d59', status: 'applied', externalId: 'lweid:aws:v2:acme:123456789012:abcdefghij', credentialSource: { keyFile: '/home/u/key.json' } });
    expect(JSON.parse(param(`${ROOT}/clusters/us-east-1`)?.value ?? '{}')).toEqual({ edge: { auditBefore: null } });
    expect(param(`${ROOT}/deployment`)?.tags).toEqual([
      { Key: 'forticnapp-eks-audit:deployment', Value: '1b3c2d59' },
      { Key: 'forticnapp-eks-audit:managed-by', Value: 'forticnapp-eks-audit' },
    ]);
    expect(calls.every((c) => c.startsWith('eu-central-1 PutParameter') && !c.includes('overwrite'))).toBe(true);
  });

  it('reads back what it wrote (across pages), with what is stored for the next write', async () => {
    const stored = await writeRecord(aws, record(), undefined, tags);
    calls = [];
    const back = await readRecord(aws, 'eu-central-1', '1b3c2d59');
    expect(back?.record).toEqual(record());
    expect(back?.stored).toEqual(stored);
    expect(calls).toEqual([`eu-central-1 GetParametersByPath ${ROOT}/`, `eu-central-1 GetParametersByPath ${ROOT}/ @2`]);
  });

  it('is absent in a region that has none', async () => {
    await writeRecord(aws, record(), undefined, tags);
    expect(await readRecord(aws, 'us-east-1', '1b3c2d59')).toBeUndefined();
    expect(await readRecord(aws, 'eu-central-1', '00000000')).toBeUndefined();
  });

  it('writes only the parameters that changed, overwriting in place; nothing at all when nothing changed', async () => {
    const stored = await writeRecord(aws, record(), undefined, tags);
    calls = [];
    expect(await writeRecord(aws, record(), stored, tags)).toEqual(stored);
    expect(calls).toEqual([]);

    const next = record({ clusters: { ...record().clusters, 'us-east-1': { edge: { auditBefore: null }, web: { auditBefore: false } } } });
    await writeRecord(aws, next, stored, tags);
    expect(calls).toEqual([`eu-central-1 PutParameter ${ROOT}/clusters/us-east-1 (overwrite)`]);
    // Tags stay on what was overwritten.
    expect(param(`${ROOT}/clusters/us-east-1`)?.tags).toBeDefined();
  });

  it('deletes the parameter of a region with no cluster left (an empty region is not stored)', async () => {
    const stored = await writeRecord(aws, record(), undefined, tags);
    calls = [];
    const after = await writeRecord(aws, record({ clusters: { 'eu-central-1': record().clusters['eu-central-1'] ?? {}, 'us-east-1': {} } }), stored, tags);
    expect(calls).toEqual([`eu-central-1 DeleteParameters ${ROOT}/clusters/us-east-1`]);
    expect([...after.keys()].sort()).toEqual([`${ROOT}/clusters/eu-central-1`, `${ROOT}/deployment`]);
    expect((await readRecord(aws, 'eu-central-1', '1b3c2d59'))?.record.clusters).toEqual({ 'eu-central-1': record().clusters['eu-central-1'] });
  });

  it('overwrites a parameter another run wrote a moment before (the create finds it there)', async () => {
    raced.add(`${ROOT}/deployment`);
    await writeRecord(aws, record(), undefined, tags);
    expect(calls.filter((c) => c.includes(`${ROOT}/deployment`))).toEqual([`eu-central-1 PutParameter ${ROOT}/deployment`, `eu-central-1 PutParameter ${ROOT}/deployment (overwrite)`]);
    expect(JSON.parse(param(`${ROOT}/deployment`)?.value ?? '{}')).toMatchObject({ deploymentId: '1b3c2d59' });
  });

  it('as a first-time claim (exclusive), refuses to overwrite a main parameter another run wrote first: RecordExists, exit 2', async () => {
    raced.add(`${ROOT}/deployment`);
    const err = await writeRecord(aws, record(), undefined, tags, { exclusive: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('RecordExists');
    expect((err as AppError).exitCode).toBe(2);
    expect(JSON.parse(param(`${ROOT}/deployment`)?.value ?? '{}')).toEqual({ other: 'run' });
    expect(calls.some((c) => c.includes('(overwrite)'))).toBe(false);
    // Nobody there first: the claim is an ordinary create.
    stores.clear();
    calls = [];
    await writeRecord(aws, record(), undefined, tags, { exclusive: true });
    expect(calls.filter((c) => c.includes(`${ROOT}/deployment`))).toEqual([`eu-central-1 PutParameter ${ROOT}/deployment`]);
  });

  it('is deleted whole, ten names per call', async () => {
    const clusters: DeploymentRecord['clusters'] = {};
    for (let i = 0; i < 12; i++) clusters[`xx-region-${i}`] = { c: { auditBefore: false } };
    const stored = await writeRecord(aws, record({ clusters }), undefined, tags);
    expect(stored.size).toBe(13);
    calls = [];
    await deleteRecord(aws, 'eu-central-1', stored);
    expect(calls.map((c) => c.split(' ').length - 2)).toEqual([10, 3]);
    expect(stores.get('eu-central-1')?.size).toBe(0);
    calls = [];
    await deleteRecord(aws, 'eu-central-1', new Map());
    expect(calls).toEqual([]);
  });

  it('refuses what this tool did not write: RecordCorrupt, exit 2, naming the parameter path and region', async () => {
    const put = (name: string, value: string) => {
      if (!stores.has('eu-central-1')) stores.set('eu-central-1', new Map());
      stores.get('eu-central-1')?.set(name, { value });
    };
    const refused = async (why: RegExp) => {
      const err = await readRecord(aws, 'eu-central-1', '1b3c2d59').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('RecordCorrupt');
      expect((err as AppError).exitCode).toBe(2);
      expect((err as AppError).message).toContain(`${ROOT} in SSM Parameter Store (eu-central-1)`);
      expect((err as AppError).message).toMatch(why);
    };
    put(`${ROOT}/clusters/eu-central-1`, '{}');
    await refused(/the main parameter is missing/);
    put(`${ROOT}/deployment`, '{not json');
    await refused(/a parameter is not JSON/);
    put(`${ROOT}/deployment`, JSON.stringify({ ...record(), clusters: undefined, v: 99 }));
    await refused(/version 99/);
    put(`${ROOT}/deployment`, JSON.stringify({ ...record(), clusters: undefined, deploymentId: 'ffffffff' }));
    await refused(/\(it names deployment ffffffff\)/);
    put(`${ROOT}/deployment`, JSON.stringify({ ...record(), clusters: undefined }));
    put(`${ROOT}/clusters/eu-central-1`, 'oops');
    await refused(/a parameter is not JSON/);
  });

  it('lists every record of a region, skipping what it cannot read', async () => {
    await writeRecord(aws, record(), undefined, tags);
    await writeRecord(aws, record({ deploymentId: '03fd8bbb', prefix: 'acme', clusters: { 'eu-central-1': { x: { auditBefore: true } } } }), undefined, tags);
    stores.get('eu-central-1')?.set('/forticnapp-eks-audit/badbadba/deployment', { value: 'nope' });
    stores.get('eu-central-1')?.set('/forticnapp-eks-audit/old00000/deployment', { value: JSON.stringify({ v: 0 }) });
    const all = await listRecords(aws, 'eu-central-1');
    expect(all.map((r) => [r.deploymentId, r.prefix, Object.keys(r.clusters).sort()])).toEqual([
      ['03fd8bbb', 'acme', ['eu-central-1']],
      ['1b3c2d59', 'lw-eks-al', ['eu-central-1', 'us-east-1']],
    ]);
    expect(await listRecords(aws, 'ap-south-1')).toEqual([]);
  });
});
