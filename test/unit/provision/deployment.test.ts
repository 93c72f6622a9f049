/**
 * A deployment's identity and what its record means (DESIGN §4), without AWS: the derived id, the spec a
 * record gives, an earlier version's (v1, random id) journal adopted under its own id, and a damaged journal
 * of this deployment stopping everything with JournalCorrupt (issue 8 item 7). SSM and S3 are fake clients
 * that find nothing.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { S3Client } from '@aws-sdk/client-s3';
import { IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../src/aws/clients.js';
import { deploymentIdFor, makeNames } from '../../../src/config/naming.js';
import { AppError } from '../../../src/errors.js';
import { locate, recordedInputs, recordOf, specFor } from '../../../src/provision/deployment.js';
import { RECORD_VERSION, type DeploymentRecord } from '../../../src/state/record.js';
import { baseInputs } from './fake-types.js';

const ACCOUNT = '123456789012';

let stateDir: string;
let searched: string[];
let roleListings: number;
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'fea-deployment-'));
  searched = [];
  roleListings = 0;
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

/** An account with no record anywhere and no bucket of the derived name. */
const aws = {
  ssm: async (region: string) =>
    Object.assign(Object.create(SSMClient.prototype) as SSMClient, {
      send: async (c: unknown) => {
        if (!(c instanceof GetParametersByPathCommand)) throw new Error('unexpected');
        searched.push(region);
        return { Parameters: [] };
      },
    }),
  s3: async () =>
    Object.assign(Object.create(S3Client.prototype) as S3Client, {
      send: async () => Promise.reject(Object.assign(new Error('NoSuchBucket'), { name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } })),
    }),
  // No role of ours: no deployment of an earlier version either.
  iam: async () =>
    Object.assign(Object.create(IAMClient.prototype) as IAMClient, {
      send: async (c: unknown) => {
        if (!(c instanceof ListRolesCommand)) throw new Error('unexpected');
        roleListings++;
        return { Roles: [{ RoleName: 'lw-eks-al-ca-0000000z', Arn: 'arn:aws:iam::123456789012:role/x' }, { RoleName: 'team-admin', Arn: 'arn:aws:iam::123456789012:role/team-admin' }] };
      },
    }),
} as unknown as AwsClients;

describe('identity', () => {
  it('is the first 8 hex of SHA-256 over "<account>:<prefix>"', () => {
    // printf '%s' '123456789012:lw-eks-al' | sha256sum  ->  1b3c2d597a1f9713…
    expect(deploymentIdFor(ACCOUNT, 'lw-eks-al')).toBe('1b3c2d59');
    expect(deploymentIdFor(ACCOUNT, 'acme')).toBe(createHash('sha256').update(`${ACCOUNT}:acme`).digest('hex').slice(0, 8));
    expect(deploymentIdFor('210987654321', 'lw-eks-al')).not.toBe('1b3c2d59');
    expect(deploymentIdFor(ACCOUNT, 'lw-eks-al')).toMatch(/^[0-9a-f]{8}$/);
  });
});

function record(over: Partial<DeploymentRecord> = {}): DeploymentRecord {
  const { regionClusters: _, ...inputs } = baseInputs({ homeRegion: 'eu-central-1', tags: { team: 'sec', cost: 'x' } });
  return {
    v: RECORD_VERSION,
    deploymentId: '1b3c2d59',
    accountId: ACCOUNT,
    prefix: 'lw-eks-al',
    homeRegion: 'eu-central-1',
    status: 'applied',
    inputs,
    externalId: 'lweid:aws:v2:acme:123456789012:abcdefghij',
    integration: { intgGuid: 'ACME_1', name: 'EKS Audit Log 123456789012' },
    clusters: { 'eu-central-1': { prod: { auditBefore: false } }, 'us-east-1': { edge: { auditBefore: true }, found: { auditBefore: null } }, 'ap-south-1': {} },
    updatedAt: '2026-11-30T00:00:00.000Z',
    tool: 'forticnapp-eks-audit/0.1.0',
    ...over,
  };
}

describe('what a record means', () => {
  it('recordedInputs: the inputs with the clusters back in (regions without clusters left out)', () => {
    expect(recordedInputs(record()).regionClusters).toEqual({ 'eu-central-1': ['prod'], 'us-east-1': ['edge', 'found'] });
    expect(recordedInputs(record()).tags).toEqual({ team: 'sec', cost: 'x' });
  });

  it('specFor: audit logging before setup where known, the tags dropped since, the integration, an unfinished run', () => {
    const names = makeNames('lw-eks-al', '1b3c2d59', ACCOUNT, 'eu-central-1');
    const now = baseInputs({ homeRegion: 'eu-central-1', tags: { team: 'sec' } });
    const s = specFor(now, names, 'ext', record({ status: 'applying' }));
    expect([...s.auditBefore.entries()]).toEqual([
      ['eu-central-1/prod', false],
      ['us-east-1/edge', true],
    ]);
    expect(s.droppedTagKeys).toEqual(['cost']);
    expect(s.integrationGuid).toBe('ACME_1');
    expect(s.unfinished).toBe(true);
    expect(s.tags).toEqual({ 'forticnapp-eks-audit:deployment': '1b3c2d59', 'forticnapp-eks-audit:managed-by': 'forticnapp-eks-audit', team: 'sec' });
    const fresh = specFor(now, names, 'ext', undefined);
    expect(fresh).toMatchObject({ droppedTagKeys: [], unfinished: false });
    expect(fresh.integrationGuid).toBeUndefined();
  });
});

/** A journal of the random-id version (v1) with live resources. */
function writeV1(id: string, lines: object[]): string {
  const dir = join(stateDir, 'deployments', id);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'journal.jsonl');
  writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return path;
}

const at = '2026-01-01T00:00:00Z';
const v1Lines = (id: string) => [
  { t: 'header', v: 1, deploymentId: id, accountId: ACCOUNT, homeRegion: 'eu-central-1', prefix: 'lw-eks-al', at, tool: 'forticnapp-eks-audit/0.0.9', externalId: 'lweid:aws:v2:acme:123456789012:oldoldoldo' },
  { t: 'run', command: 'setup', inputs: { ...baseInputs({ homeRegion: 'eu-central-1' }), regionClusters: { 'eu-central-1': ['prod', 'dev'] }, bucketLifecycleDays: 90 }, pid: 1, at },
  { t: 'intent', key: 'eks-audit-logging/eu-central-1/prod', kind: 'eks-audit-logging', region: 'eu-central-1', name: 'prod', op: 'create', at },
  { t: 'done', key: 'eks-audit-logging/eu-central-1/prod', kind: 'eks-audit-logging', region: 'eu-central-1', name: 'prod', action: 'created', ref: { id: 'prod' }, at },
  { t: 'intent', key: 'subscription-filter/eu-central-1/prod', kind: 'subscription-filter', region: 'eu-central-1', name: `lw-eks-al-prod-eks-cw-${id}`, op: 'create', at },
  { t: 'done', key: 'subscription-filter/eu-central-1/prod', kind: 'subscription-filter', region: 'eu-central-1', name: `lw-eks-al-prod-eks-cw-${id}`, action: 'created', ref: { id: `lw-eks-al-prod-eks-cw-${id}` }, at },
  { t: 'intent', key: 'subscription-filter/eu-central-1/dev', kind: 'subscription-filter', region: 'eu-central-1', name: `lw-eks-al-dev-eks-cw-${id}`, op: 'create', at },
  { t: 'done', key: 'subscription-filter/eu-central-1/dev', kind: 'subscription-filter', region: 'eu-central-1', name: `lw-eks-al-dev-eks-cw-${id}`, action: 'created', ref: { id: `lw-eks-al-dev-eks-cw-${id}` }, at },
  { t: 'intent', key: 'forticnapp-integration', kind: 'forticnapp-integration', region: 'global', name: 'EKS', op: 'create', at },
  { t: 'done', key: 'forticnapp-integration', kind: 'forticnapp-integration', region: 'global', name: 'EKS', action: 'created', ref: { id: 'ACME_OLD', name: 'EKS Audit Log 123456789012' }, at },
];

describe('locate', () => {
  it('derives the id when nothing is known, searching the regions given and the bucket’s', async () => {
    const found = await locate({ aws, stateDir, accountId: ACCOUNT, regionHint: 'us-west-2' }, { prefix: 'lw-eks-al', regions: ['eu-central-1', 'us-east-1'], scanAll: false });
    expect(found).toMatchObject({ deploymentId: '1b3c2d59', accountId: ACCOUNT, prefix: 'lw-eks-al' });
    expect(found.stored).toBeUndefined();
    expect(found.legacy).toBeUndefined();
    expect(found.searched).toEqual(['eu-central-1', 'us-east-1', 'us-west-2']);
    // No deployment of an earlier version either: one look at the account's roles (none of ours by name).
    expect(roleListings).toBe(1);
    expect(recordOf(found)).toBeUndefined();
  });

  it('adopts an earlier version’s deployment under its own id, with a record made from its journal', async () => {
    const path = writeV1('k3x9abcd', v1Lines('k3x9abcd'));
    const found = await locate({ aws, stateDir, accountId: ACCOUNT }, { prefix: 'lw-eks-al', regions: ['us-east-1'], scanAll: false });
    expect(found.deploymentId).toBe('k3x9abcd');
    expect(found.legacy?.path).toBe(path);
    expect(searched[0]).toBe('eu-central-1');
    const rec = recordOf(found);
    expect(rec).toMatchObject({
      deploymentId: 'k3x9abcd',
      homeRegion: 'eu-central-1',
      status: 'applied',
      externalId: 'lweid:aws:v2:acme:123456789012:oldoldoldo',
      integration: { intgGuid: 'ACME_OLD', name: 'EKS Audit Log 123456789012' },
      clusters: { 'eu-central-1': { prod: { auditBefore: false }, dev: { auditBefore: true } } },
    });
    expect(rec?.inputs.bucketLifecycleDays).toBe(90);
    expect((rec?.inputs as { regionClusters?: unknown }).regionClusters).toBeUndefined();
  });

  it('leaves a v1 journal of another account or prefix alone, and one with nothing left in it', async () => {
    writeV1('aaaaaaaa', v1Lines('aaaaaaaa').map((l) => ('accountId' in l ? { ...l, accountId: '999999999999' } : l)));
    writeV1('bbbbbbbb', v1Lines('bbbbbbbb').map((l) => (l.t === 'header' ? { ...l, prefix: 'acme' } : l)));
    writeV1('cccccccc', v1Lines('cccccccc').slice(0, 2));
    const found = await locate({ aws, stateDir, accountId: ACCOUNT }, { prefix: 'lw-eks-al', regions: [], scanAll: false });
    expect(found.deploymentId).toBe('1b3c2d59');
  });

  it('stops at a damaged journal of this deployment: JournalCorrupt, exit 2, naming file and line (never "no deployment")', async () => {
    const path = writeV1('1b3c2d59', [{ t: 'header', v: 2, deploymentId: '1b3c2d59', accountId: ACCOUNT, homeRegion: 'eu-central-1', prefix: 'lw-eks-al', at, tool: 'x' }]);
    writeFileSync(path, `${JSON.stringify({ t: 'header', v: 2, deploymentId: '1b3c2d59', accountId: ACCOUNT, homeRegion: 'eu-central-1', prefix: 'lw-eks-al', at, tool: 'x' })}\ngarbage\n{"t":"run","command":"setup","pid":1,"at":"${at}"}\n`);
    const err = await locate({ aws, stateDir, accountId: ACCOUNT }, { prefix: 'lw-eks-al', regions: [], scanAll: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('JournalCorrupt');
    expect((err as AppError).exitCode).toBe(2);
    expect((err as AppError).message).toContain(`Journal ${path} is damaged at line 2`);
    expect(searched).toEqual([]);
  });

  it('stops at a damaged journal under another id whose header names this account and prefix', async () => {
    const path = writeV1('k3x9abcd', v1Lines('k3x9abcd'));
    writeFileSync(path, `${JSON.stringify(v1Lines('k3x9abcd')[0])}\n{broken\n${JSON.stringify(v1Lines('k3x9abcd')[1])}\n`);
    await expect(locate({ aws, stateDir, accountId: ACCOUNT }, { prefix: 'lw-eks-al', regions: [], scanAll: false })).rejects.toMatchObject({ code: 'JournalCorrupt' });
    // Another account's damaged journal is not this deployment's business.
    await expect(locate({ aws, stateDir, accountId: '999999999999' }, { prefix: 'lw-eks-al', regions: [], scanAll: false })).resolves.toMatchObject({ deploymentId: deploymentIdFor('999999999999', 'lw-eks-al') });
  });
});
