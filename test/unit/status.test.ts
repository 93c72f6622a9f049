/** The pure parts of `status`: which clusters a journal serves, and the setup command that repairs it. */
import { describe, expect, it } from 'vitest';
import { DEFAULTS, type Inputs } from '../../src/config/inputs.js';
import { replay, type ReadJournal } from '../../src/journal/journal.js';
import type { JournalRecord } from '../../src/journal/records.js';
import { clustersOfJournal, lastSetupInputs, setupCommandLine } from '../../src/provision/status.js';

const inputs = (over: Partial<Inputs> = {}): Inputs => ({
  regionClusters: { 'eu-central-1': ['prod'] },
  homeRegion: 'eu-central-1',
  prefix: DEFAULTS.prefix,
  tags: {},
  filterPattern: DEFAULTS.filterPattern,
  laceworkAwsAccountId: DEFAULTS.laceworkAwsAccountId,
  noKms: false,
  bucketLifecycleDays: DEFAULTS.bucketLifecycleDays,
  bucketVersioning: true,
  enableAuditLogging: true,
  ...over,
});

const at = '2026-11-27T10:00:00.000Z';
const done = (key: string, kind: string, region: string, name: string): JournalRecord => ({ t: 'done', key, kind, region, name, action: 'created', ref: { id: name }, at });

describe('status helpers', () => {
  const records: JournalRecord[] = [
    { t: 'header', v: 1, deploymentId: '1a2b3c4d', accountId: '123456789012', homeRegion: 'eu-central-1', prefix: 'lw-eks-al', at, tool: 'x' },
    { t: 'run', command: 'setup', inputs: inputs(), pid: 1, at },
    done('subscription-filter/eu-central-1/prod', 'subscription-filter', 'eu-central-1', 'lw-eks-al-prod-eks-cw-1a2b3c4d'),
    { t: 'run', command: 'setup', inputs: inputs({ regionClusters: { 'eu-central-1': ['prod'], 'us-east-1': ['edge'] } }), pid: 2, at: '2026-11-27T11:00:00.000Z' },
    done('subscription-filter/us-east-1/edge', 'subscription-filter', 'us-east-1', 'lw-eks-al-edge-eks-cw-1a2b3c4d'),
    done('subscription-filter/us-east-1/gone', 'subscription-filter', 'us-east-1', 'lw-eks-al-gone-eks-cw-1a2b3c4d'),
    { t: 'undone', key: 'subscription-filter/us-east-1/gone', kind: 'subscription-filter', how: 'deleted', at },
    { t: 'run', command: 'teardown', pid: 3, at: '2026-11-27T12:00:00.000Z' },
  ];
  const journal = { path: '/j', header: records[0], records, warnings: [] } as unknown as ReadJournal;

  it('serves the clusters whose filter is live in the journal', () => {
    expect(clustersOfJournal(replay(records))).toEqual([
      { region: 'eu-central-1', cluster: 'prod', filter: 'lw-eks-al-prod-eks-cw-1a2b3c4d' },
      { region: 'us-east-1', cluster: 'edge', filter: 'lw-eks-al-edge-eks-cw-1a2b3c4d' },
    ]);
  });

  it('takes the inputs of the newest setup run', () => {
    const last = lastSetupInputs(journal);
    expect(last.at).toBe('2026-11-27T11:00:00.000Z');
    expect(last.inputs?.regionClusters).toEqual({ 'eu-central-1': ['prod'], 'us-east-1': ['edge'] });
  });

  it('repeats every non-default option in the setup command, shell-quoted', () => {
    expect(setupCommandLine(inputs(), [{ region: 'us-east-1', cluster: 'edge' }])).toBe(
      'npx forticnapp-eks-audit setup --region-clusters us-east-1=edge --region-clusters eu-central-1=prod --home-region eu-central-1',
    );
    const line = setupCommandLine(
      inputs({ prefix: 'acme', tags: { team: "o'brien" }, noKms: true, bucketVersioning: false, enableAuditLogging: false, filterPattern: '{ $.verb = "create" }', sqsQueueArn: 'arn:aws:sqs:eu-central-1:123456789012:q' }),
      [],
    );
    expect(line).toContain("--prefix acme --tag 'team=o'\\''brien' --filter-pattern '{ $.verb = \"create\" }'");
    expect(line).toContain('--no-kms --no-bucket-versioning --sqs-queue-arn arn:aws:sqs:eu-central-1:123456789012:q --no-enable-audit-logging');
  });
});
