/** The moto harness against a real moto: start, reset, seed, per-server env, and the cross-region wrapper. */
import { gunzipSync } from 'node:zlib';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand, PutSubscriptionFilterCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import { CreateAccountCommand, CreateOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requireMotoOrSkip, startMoto, type MotoServer } from '../fakes/moto.js';

const run = requireMotoOrSkip();
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

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

  it('seed() makes the random ids of moto repeat (Organizations account ids)', async () => {
    const memberId = async () => {
      await moto.reset();
      await moto.seed(42);
      const org = new OrganizationsClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials });
      await org.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
      return (await org.send(new CreateAccountCommand({ AccountName: 'm', Email: 'm@example.com' }))).CreateAccountStatus?.AccountId;
    };
    const first = await memberId();
    expect(first).toMatch(/^\d{12}$/);
    expect(await memberId()).toBe(first);
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
