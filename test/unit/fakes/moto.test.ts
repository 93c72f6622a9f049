import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand, PutSubscriptionFilterCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsTestEnv, isolatedAwsEnv, requireMotoOrSkip, startMoto, type MotoServer } from '../../fakes/moto.js';

const run = requireMotoOrSkip();
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

describe('awsTestEnv / isolatedAwsEnv', () => {
  it('points the SDK at the endpoint with dummy credentials and no real profile', () => {
    const env = awsTestEnv('http://127.0.0.1:1234');
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1234',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    expect(env).not.toHaveProperty('AWS_PROFILE');
    expect(env.AWS_CONFIG_FILE).toBeTruthy();
    expect(env.AWS_SHARED_CREDENTIALS_FILE).toBeTruthy();
  });

  it('drops every inherited AWS_* variable', () => {
    const env = isolatedAwsEnv('http://127.0.0.1:1', {
      PATH: '/bin',
      AWS_PROFILE: 'prod',
      AWS_SESSION_TOKEN: 'x',
      AWS_DEFAULT_PROFILE: 'prod',
    });
    expect(env.PATH).toBe('/bin');
    expect(env).not.toHaveProperty('AWS_PROFILE');
    expect(env).not.toHaveProperty('AWS_SESSION_TOKEN');
    expect(env).not.toHaveProperty('AWS_DEFAULT_PROFILE');
    expect(env.AWS_ACCESS_KEY_ID).toBe('testing');
  });
});

describe('requireMotoOrSkip without moto', () => {
  /** Run requireMotoOrSkip() twice in a fresh process whose python3 does not exist. */
  const probe = (ci: boolean) => {
    const env: NodeJS.ProcessEnv = { ...process.env, MOTO_PYTHON: '/nonexistent/python3' };
    delete env.CI;
    if (ci) env.CI = 'true';
    const script =
      "import { requireMotoOrSkip } from './test/fakes/moto.ts';" +
      "console.log('first=' + requireMotoOrSkip()); console.log('second=' + requireMotoOrSkip());";
    return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env,
      encoding: 'utf8',
    });
  };

  it('locally: skips with one loud line on stderr', () => {
    const r = probe(false);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('first=false');
    expect(r.stdout).toContain('second=false');
    const loud = r.stderr.split('\n').filter((l) => l.includes('SKIPPING e2e'));
    expect(loud).toHaveLength(1);
    expect(loud[0]).toContain('pip install "moto[server]==5.2.1"');
  });

  it('in CI: throws', () => {
    const r = probe(true);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('moto_server is required in CI: pip install "moto[server]==5.2.1"');
  });
});

describe.skipIf(!run)('moto harness', () => {
  let moto: MotoServer;

  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
  });

  it('starts on a loopback port and answers the SDK', async () => {
    expect(moto.endpoint).toBe(`http://127.0.0.1:${moto.port}`);
    expect(moto.port).toBeGreaterThan(0);
    const sts = new STSClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials });
    const id = await sts.send(new GetCallerIdentityCommand({}));
    expect(id.Account).toBe('123456789012');
  });

  it('reset() wipes state', async () => {
    const sns = new SNSClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials });
    await sns.send(new CreateTopicCommand({ Name: 'wiped' }));
    expect((await sns.send(new ListTopicsCommand({}))).Topics).toHaveLength(1);
    await moto.reset();
    expect((await sns.send(new ListTopicsCommand({}))).Topics ?? []).toHaveLength(0);
  });

  it('passes env to the server (MOTO_ACCOUNT_ID) and stop() ends only that process', async () => {
    const other = await startMoto({ env: { MOTO_ACCOUNT_ID: '111122223333' } });
    try {
      expect(other.port).not.toBe(moto.port);
      const sts = new STSClient({ endpoint: other.endpoint, region: 'us-east-1', credentials });
      expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe('111122223333');
    } finally {
      await other.stop();
    }
    expect(() => process.kill(other.pid, 0)).toThrow();
    // The first server is untouched.
    const sts = new STSClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials });
    expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe('123456789012');
  });

  it('wrapper: a us-east-1 log group delivers through an eu-central-1 Firehose stream (moto.md §10)', async () => {
    const base = { endpoint: moto.endpoint, credentials };
    const s3 = new S3Client({ ...base, region: 'eu-central-1', forcePathStyle: true });
    const firehose = new FirehoseClient({ ...base, region: 'eu-central-1' });
    const logs = new CloudWatchLogsClient({ ...base, region: 'us-east-1' });
    const roleArn = 'arn:aws:iam::123456789012:role/test';

    await s3.send(
      new CreateBucketCommand({ Bucket: 'xr-audit', CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } }),
    );
    const { DeliveryStreamARN } = await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'xr-stream',
        DeliveryStreamType: 'DirectPut',
        ExtendedS3DestinationConfiguration: { RoleARN: roleArn, BucketARN: 'arn:aws:s3:::xr-audit', Prefix: 'eks-audit/' },
      }),
    );
    expect(DeliveryStreamARN).toMatch(/^arn:aws:firehose:eu-central-1:123456789012:deliverystream\/xr-stream$/);

    await logs.send(new CreateLogGroupCommand({ logGroupName: '/aws/eks/demo/cluster' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: '/aws/eks/demo/cluster', logStreamName: 'kube-apiserver-audit-1' }));
    await logs.send(
      new PutSubscriptionFilterCommand({
        logGroupName: '/aws/eks/demo/cluster',
        filterName: 'forticnapp',
        filterPattern: '',
        destinationArn: DeliveryStreamARN,
        roleArn,
      }),
    );
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: '/aws/eks/demo/cluster',
        logStreamName: 'kube-apiserver-audit-1',
        logEvents: [{ timestamp: Date.now(), message: '{"auditID":"xr-1","verb":"create"}' }],
      }),
    );

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'xr-audit' }));
    expect(listed.Contents).toHaveLength(1);
    const key = listed.Contents?.[0]?.Key ?? '';
    expect(key).toMatch(/^eks-audit\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/xr-stream-1-/);
    const obj = await s3.send(new GetObjectCommand({ Bucket: 'xr-audit', Key: key }));
    const envelope = JSON.parse(gunzipSync(await obj.Body!.transformToByteArray()).toString('utf8')) as {
      logGroup: string;
      subscriptionFilters: string[];
      logEvents: Array<{ message: string }>;
    };
    expect(envelope.logGroup).toBe('/aws/eks/demo/cluster');
    expect(envelope.subscriptionFilters).toEqual(['forticnapp']);
    expect(envelope.logEvents[0]?.message).toContain('"auditID":"xr-1"');
  });

  it('wrapper: a Firehose ARN in a region without that stream is still rejected', async () => {
    const logs = new CloudWatchLogsClient({ endpoint: moto.endpoint, credentials, region: 'us-east-1' });
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'g' }));
    await expect(
      logs.send(
        new PutSubscriptionFilterCommand({
          logGroupName: 'g',
          filterName: 'f',
          filterPattern: '',
          destinationArn: 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/missing',
          roleArn: 'arn:aws:iam::123456789012:role/test',
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });
});
