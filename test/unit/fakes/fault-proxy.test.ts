import { spawn } from 'node:child_process';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteSubscriptionFilterCommand,
  DescribeLogGroupsCommand,
  DescribeSubscriptionFiltersCommand,
  PutLogEventsCommand,
  PutSubscriptionFilterCommand,
  TagLogGroupCommand,
  TagResourceCommand as LogsTagResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateClusterCommand,
  DescribeClusterCommand,
  DescribeUpdateCommand,
  EKSClient,
  ListClustersCommand,
  TagResourceCommand as EksTagResourceCommand,
  UpdateClusterConfigCommand,
} from '@aws-sdk/client-eks';
import {
  CreateDeliveryStreamCommand,
  DeleteDeliveryStreamCommand,
  DescribeDeliveryStreamCommand,
  FirehoseClient,
  ListTagsForDeliveryStreamCommand,
} from '@aws-sdk/client-firehose';
import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListResourceTagsCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand as KmsTagResourceCommand,
} from '@aws-sdk/client-kms';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListTagsForResourceCommand as SnsListTagsForResourceCommand,
  ListTopicsCommand,
  SetTopicAttributesCommand,
  SNSClient,
  SubscribeCommand,
  TagResourceCommand as SnsTagResourceCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyRequest, markFixture, startFaultProxy, type FaultProxy } from '../../fakes/fault-proxy.js';
import { isolatedAwsEnv, requireMotoOrSkip, startMoto, type MotoServer } from '../../fakes/moto.js';

const run = requireMotoOrSkip();
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const ACCOUNT = '123456789012';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/test`;
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::audit-b/*' }],
});
const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'firehose.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

describe('classifyRequest (no network)', () => {
  const auth = (region: string, service: string): Record<string, string> => ({
    authorization: `AWS4-HMAC-SHA256 Credential=testing/20261127/${region}/${service}/aws4_request, SignedHeaders=host, Signature=00`,
  });

  it('reads service and region from the credential scope', () => {
    const c = classifyRequest('POST', '/', { ...auth('eu-central-1', 'logs'), 'x-amz-target': 'Logs_20140328.PutLogEvents' }, Buffer.alloc(0));
    expect(c).toMatchObject({ service: 'logs', region: 'eu-central-1', action: 'PutLogEvents', mutating: true, protocol: 'json' });
  });

  it('maps EKS and S3 paths', () => {
    const eks = (m: string, p: string): string => classifyRequest(m, p, auth('us-east-1', 'eks'), Buffer.alloc(0)).action;
    expect(eks('POST', '/clusters/demo/update-config')).toBe('UpdateClusterConfig');
    expect(eks('GET', '/clusters/demo')).toBe('DescribeCluster');
    expect(eks('GET', '/clusters/demo/updates/abc')).toBe('DescribeUpdate');
    expect(eks('GET', '/clusters?maxResults=100')).toBe('ListClusters');
    expect(eks('POST', '/tags/arn%3Aaws%3Aeks%3Aus-east-1%3A1%3Acluster%2Fdemo')).toBe('TagResource');
    const s3 = (m: string, p: string): string => classifyRequest(m, p, auth('eu-central-1', 's3'), Buffer.alloc(0)).action;
    expect(s3('PUT', '/b')).toBe('CreateBucket');
    expect(s3('PUT', '/b?policy')).toBe('PutBucketPolicy');
    expect(s3('GET', '/b?versions&prefix=x')).toBe('ListObjectVersions');
    expect(s3('GET', '/b?list-type=2&prefix=x')).toBe('ListObjectsV2');
    expect(s3('GET', '/b?prefix=x')).toBe('ListObjects');
    expect(s3('POST', '/b?delete')).toBe('DeleteObjects');
    expect(s3('HEAD', '/b')).toBe('HeadBucket');
    expect(s3('PUT', '/b/a/b/c.json?x-id=PutObject')).toBe('PutObject');
    expect(s3('PUT', '/b/k?tagging')).toBe('PutObjectTagging');
    expect(s3('DELETE', '/b?lifecycle')).toBe('DeleteBucketLifecycle');
    expect(s3('GET', '/')).toBe('ListBuckets');
  });

  it('reads Action from a form body', () => {
    const c = classifyRequest(
      'POST',
      '/',
      { ...auth('us-east-1', 'iam'), 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      Buffer.from('Action=GetRole&Version=2010-05-08&RoleName=x'),
    );
    expect(c).toMatchObject({ service: 'iam', action: 'GetRole', mutating: false, protocol: 'query' });
  });
});

describe.skipIf(!run)('fault proxy in front of moto', () => {
  let moto: MotoServer;
  let proxy: FaultProxy;

  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startFaultProxy(moto.endpoint);
  });
  afterAll(async () => {
    await proxy?.stop();
    await moto?.stop();
  });
  beforeEach(async () => {
    proxy.clearRules();
    proxy.onMutating(null);
    await moto.reset();
    proxy.resetCalls();
  });

  /** Client options aimed at the proxy; default retry strategy with 4 attempts. */
  const cfg = (region = 'us-east-1') => ({ endpoint: proxy.endpoint, region, credentials, maxAttempts: 4 });
  const seen = () => proxy.calls.filter((c) => !c.fixture).map((c) => `${c.service} ${c.region} ${c.action} ${c.mutating ? 'W' : 'R'}`);

  it('classifies every call the product makes, per protocol', async () => {
    const sts = new STSClient(cfg());
    const eks = new EKSClient(cfg());
    const logs = new CloudWatchLogsClient(cfg());
    const firehose = new FirehoseClient(cfg());
    const s3 = new S3Client({ ...cfg('eu-central-1'), forcePathStyle: true });
    const sns = new SNSClient(cfg('eu-central-1'));
    const iam = new IAMClient(cfg());
    const kms = new KMSClient(cfg('eu-central-1'));
    const sqs = new SQSClient(cfg('eu-central-1'));
    const tagging = new ResourceGroupsTaggingAPIClient(cfg('eu-central-1'));
    const expected: string[] = [];
    /** Run one call (errors are fine: only the classification matters) and note what the proxy should see. */
    const step = async (want: string, call: () => Promise<unknown>): Promise<void> => {
      expected.push(want);
      await call().catch(() => undefined);
    };

    await step('sts us-east-1 GetCallerIdentity R', () => sts.send(new GetCallerIdentityCommand({})));

    await step('iam us-east-1 CreateRole W', () => iam.send(new CreateRoleCommand({ RoleName: 'fh', AssumeRolePolicyDocument: TRUST })));
    await step('iam us-east-1 GetRole R', () => iam.send(new GetRoleCommand({ RoleName: 'fh' })));
    await step('iam us-east-1 PutRolePolicy W', () =>
      iam.send(new PutRolePolicyCommand({ RoleName: 'fh', PolicyName: 'p', PolicyDocument: POLICY })),
    );
    await step('iam us-east-1 GetRolePolicy R', () => iam.send(new GetRolePolicyCommand({ RoleName: 'fh', PolicyName: 'p' })));
    await step('iam us-east-1 ListRolePolicies R', () => iam.send(new ListRolePoliciesCommand({ RoleName: 'fh' })));
    await step('iam us-east-1 UpdateAssumeRolePolicy W', () =>
      iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'fh', PolicyDocument: TRUST })),
    );
    await step('iam us-east-1 TagRole W', () => iam.send(new TagRoleCommand({ RoleName: 'fh', Tags: [{ Key: 'k', Value: 'v' }] })));
    await step('iam us-east-1 ListRoles R', () => iam.send(new ListRolesCommand({})));
    await step('iam us-east-1 ListRoleTags R', () => iam.send(new ListRoleTagsCommand({ RoleName: 'fh' })));

    let keyId = 'missing';
    await step('kms eu-central-1 CreateKey W', async () => {
      keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId ?? keyId;
    });
    await step('kms eu-central-1 DescribeKey R', () => kms.send(new DescribeKeyCommand({ KeyId: keyId })));
    await step('kms eu-central-1 EnableKeyRotation W', () => kms.send(new EnableKeyRotationCommand({ KeyId: keyId })));
    await step('kms eu-central-1 GetKeyRotationStatus R', () => kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId })));
    await step('kms eu-central-1 CreateAlias W', () => kms.send(new CreateAliasCommand({ AliasName: 'alias/t', TargetKeyId: keyId })));
    await step('kms eu-central-1 ListAliases R', () => kms.send(new ListAliasesCommand({})));
    await step('kms eu-central-1 GetKeyPolicy R', () => kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })));
    await step('kms eu-central-1 TagResource W', () =>
      kms.send(new KmsTagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'k', TagValue: 'v' }] })),
    );
    await step('kms eu-central-1 ListResourceTags R', () => kms.send(new ListResourceTagsCommand({ KeyId: keyId })));

    await step('s3 eu-central-1 CreateBucket W', () =>
      s3.send(new CreateBucketCommand({ Bucket: 'audit-b', CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } })),
    );
    await step('s3 eu-central-1 HeadBucket R', () => s3.send(new HeadBucketCommand({ Bucket: 'audit-b' })));
    await step('s3 eu-central-1 GetBucketLocation R', () => s3.send(new GetBucketLocationCommand({ Bucket: 'audit-b' })));
    await step('s3 eu-central-1 PutBucketVersioning W', () =>
      s3.send(new PutBucketVersioningCommand({ Bucket: 'audit-b', VersioningConfiguration: { Status: 'Enabled' } })),
    );
    await step('s3 eu-central-1 PutBucketEncryption W', () =>
      s3.send(
        new PutBucketEncryptionCommand({
          Bucket: 'audit-b',
          ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        }),
      ),
    );
    await step('s3 eu-central-1 PutPublicAccessBlock W', () =>
      s3.send(
        new PutPublicAccessBlockCommand({
          Bucket: 'audit-b',
          PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        }),
      ),
    );
    await step('s3 eu-central-1 PutBucketOwnershipControls W', () =>
      s3.send(
        new PutBucketOwnershipControlsCommand({
          Bucket: 'audit-b',
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        }),
      ),
    );
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: ROLE_ARN }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::audit-b/*' }],
    });
    await step('s3 eu-central-1 PutBucketPolicy W', () => s3.send(new PutBucketPolicyCommand({ Bucket: 'audit-b', Policy: policy })));
    await step('s3 eu-central-1 GetBucketPolicy R', () => s3.send(new GetBucketPolicyCommand({ Bucket: 'audit-b' })));
    await step('s3 eu-central-1 PutBucketLifecycleConfiguration W', () =>
      s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: 'audit-b',
          LifecycleConfiguration: { Rules: [{ ID: 'x', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 7 } }] },
        }),
      ),
    );
    await step('s3 eu-central-1 PutBucketTagging W', () =>
      s3.send(new PutBucketTaggingCommand({ Bucket: 'audit-b', Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } })),
    );
    await step('s3 eu-central-1 GetBucketTagging R', () => s3.send(new GetBucketTaggingCommand({ Bucket: 'audit-b' })));

    let topicArn = `arn:aws:sns:eu-central-1:${ACCOUNT}:missing`;
    await step('sns eu-central-1 CreateTopic W', async () => {
      topicArn = (await sns.send(new CreateTopicCommand({ Name: 'audit-t' }))).TopicArn ?? topicArn;
    });
    await step('sns eu-central-1 SetTopicAttributes W', () =>
      sns.send(new SetTopicAttributesCommand({ TopicArn: topicArn, AttributeName: 'DisplayName', AttributeValue: 'x' })),
    );
    await step('sns eu-central-1 GetTopicAttributes R', () => sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn })));
    await step('sns eu-central-1 TagResource W', () =>
      sns.send(new SnsTagResourceCommand({ ResourceArn: topicArn, Tags: [{ Key: 'k', Value: 'v' }] })),
    );
    await step('sns eu-central-1 ListTagsForResource R', () => sns.send(new SnsListTagsForResourceCommand({ ResourceArn: topicArn })));

    let queueUrl = 'missing';
    await step('sqs eu-central-1 CreateQueue W', async () => {
      queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'audit-q' }))).QueueUrl ?? queueUrl;
    });
    await step('sqs eu-central-1 GetQueueAttributes R', () =>
      sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] })),
    );
    let subArn = 'missing';
    await step('sns eu-central-1 Subscribe W', async () => {
      subArn =
        (
          await sns.send(
            new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: `arn:aws:sqs:eu-central-1:${ACCOUNT}:audit-q` }),
          )
        ).SubscriptionArn ?? subArn;
    });
    await step('sns eu-central-1 ListSubscriptionsByTopic R', () => sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn })));
    await step('s3 eu-central-1 PutBucketNotificationConfiguration W', () =>
      s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: 'audit-b',
          NotificationConfiguration: { TopicConfigurations: [{ TopicArn: topicArn, Events: ['s3:ObjectCreated:*'] }] },
        }),
      ),
    );
    await step('s3 eu-central-1 GetBucketNotificationConfiguration R', () =>
      s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'audit-b' })),
    );

    let streamArn = `arn:aws:firehose:us-east-1:${ACCOUNT}:deliverystream/missing`;
    await step('firehose us-east-1 CreateDeliveryStream W', async () => {
      streamArn =
        (
          await firehose.send(
            new CreateDeliveryStreamCommand({
              DeliveryStreamName: 'audit-s',
              ExtendedS3DestinationConfiguration: { RoleARN: ROLE_ARN, BucketARN: 'arn:aws:s3:::audit-b', Prefix: 'eks-audit/' },
            }),
          )
        ).DeliveryStreamARN ?? streamArn;
    });
    await step('firehose us-east-1 DescribeDeliveryStream R', () =>
      firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'audit-s' })),
    );
    await step('firehose us-east-1 ListTagsForDeliveryStream R', () =>
      firehose.send(new ListTagsForDeliveryStreamCommand({ DeliveryStreamName: 'audit-s' })),
    );

    await step('eks us-east-1 CreateCluster W', () =>
      eks.send(new CreateClusterCommand({ name: 'demo', roleArn: ROLE_ARN, resourcesVpcConfig: { subnetIds: [] } })),
    );
    await step('eks us-east-1 ListClusters R', () => eks.send(new ListClustersCommand({})));
    await step('eks us-east-1 DescribeCluster R', () => eks.send(new DescribeClusterCommand({ name: 'demo' })));
    await step('eks us-east-1 UpdateClusterConfig W', () =>
      eks.send(new UpdateClusterConfigCommand({ name: 'demo', logging: { clusterLogging: [{ types: ['audit'], enabled: true }] } })),
    );
    await step('eks us-east-1 DescribeUpdate R', () => eks.send(new DescribeUpdateCommand({ name: 'demo', updateId: 'u-1' })));
    await step('eks us-east-1 TagResource W', () =>
      eks.send(new EksTagResourceCommand({ resourceArn: `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/demo`, tags: { k: 'v' } })),
    );

    const group = '/aws/eks/demo/cluster';
    await step('logs us-east-1 DescribeLogGroups R', () => logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: group })));
    await step('logs us-east-1 CreateLogGroup W', () => logs.send(new CreateLogGroupCommand({ logGroupName: group })));
    await step('logs us-east-1 TagLogGroup W', () => logs.send(new TagLogGroupCommand({ logGroupName: group, tags: { k: 'v' } })));
    await step('logs us-east-1 TagResource W', () =>
      logs.send(new LogsTagResourceCommand({ resourceArn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:${group}`, tags: { k: 'v' } })),
    );
    await step('logs us-east-1 PutSubscriptionFilter W', () =>
      logs.send(
        new PutSubscriptionFilterCommand({ logGroupName: group, filterName: 'f', filterPattern: '', destinationArn: streamArn, roleArn: ROLE_ARN }),
      ),
    );
    await step('logs us-east-1 DescribeSubscriptionFilters R', () => logs.send(new DescribeSubscriptionFiltersCommand({ logGroupName: group })));
    await step('logs us-east-1 CreateLogStream W', () => logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 's' })));
    await step('logs us-east-1 PutLogEvents W', () =>
      logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: 's', logEvents: [{ timestamp: Date.now(), message: '{}' }] })),
    );
    await step('s3 eu-central-1 PutObject W', () => s3.send(new PutObjectCommand({ Bucket: 'audit-b', Key: 'eks-audit/x.json', Body: '{}' })));

    await step('tagging eu-central-1 GetResources R', () => tagging.send(new GetResourcesCommand({ TagFilters: [{ Key: 'k' }] })));

    // Teardown calls.
    await step('logs us-east-1 DeleteSubscriptionFilter W', () => logs.send(new DeleteSubscriptionFilterCommand({ logGroupName: group, filterName: 'f' })));
    await step('firehose us-east-1 DeleteDeliveryStream W', () =>
      firehose.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: 'audit-s' })),
    );
    await step('sns eu-central-1 Unsubscribe W', () => sns.send(new UnsubscribeCommand({ SubscriptionArn: subArn })));
    await step('sns eu-central-1 DeleteTopic W', () => sns.send(new DeleteTopicCommand({ TopicArn: topicArn })));
    await step('sqs eu-central-1 DeleteQueue W', () => sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })));
    await step('s3 eu-central-1 ListObjectVersions R', () => s3.send(new ListObjectVersionsCommand({ Bucket: 'audit-b' })));
    await step('s3 eu-central-1 ListObjectsV2 R', () => s3.send(new ListObjectsV2Command({ Bucket: 'audit-b' })));
    await step('s3 eu-central-1 DeleteObjects W', () =>
      s3.send(new DeleteObjectsCommand({ Bucket: 'audit-b', Delete: { Objects: [{ Key: 'eks-audit/x.json' }] } })),
    );
    await step('s3 eu-central-1 DeleteBucketPolicy W', () => s3.send(new DeleteBucketPolicyCommand({ Bucket: 'audit-b' })));
    await step('s3 eu-central-1 DeleteBucket W', () => s3.send(new DeleteBucketCommand({ Bucket: 'audit-b' })));
    await step('kms eu-central-1 DeleteAlias W', () => kms.send(new DeleteAliasCommand({ AliasName: 'alias/t' })));
    await step('kms eu-central-1 ScheduleKeyDeletion W', () =>
      kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 })),
    );
    await step('iam us-east-1 DeleteRolePolicy W', () => iam.send(new DeleteRolePolicyCommand({ RoleName: 'fh', PolicyName: 'p' })));
    await step('iam us-east-1 DeleteRole W', () => iam.send(new DeleteRoleCommand({ RoleName: 'fh' })));

    expect(seen()).toEqual(expected);
    expect(proxy.mutatingCount()).toBe(expected.filter((e) => e.endsWith(' W')).length);
    // Everything was really forwarded: only DescribeUpdate (404 in moto, §3.2) and S3 objects the
    // versioned bucket still holds may fail; all the rest succeeded.
    const failed = proxy.calls.filter((c) => c.status >= 400).map((c) => c.action);
    expect(failed).toContain('DescribeUpdate');
    expect(failed.filter((a) => a !== 'DescribeUpdate' && a !== 'DeleteBucket')).toEqual([]);
  });

  describe('throttling and 5xx are retried through by the SDK', () => {
    const cases = [
      {
        protocol: 'query (sns)',
        service: 'sns',
        action: 'CreateTopic',
        send: (attempts: number) => new SNSClient({ ...cfg(), maxAttempts: attempts }).send(new CreateTopicCommand({ Name: 't' })),
      },
      {
        protocol: 'json (logs)',
        service: 'logs',
        action: 'CreateLogGroup',
        send: (attempts: number) =>
          new CloudWatchLogsClient({ ...cfg(), maxAttempts: attempts }).send(new CreateLogGroupCommand({ logGroupName: 'g' })),
      },
      {
        protocol: 'rest-json (eks)',
        service: 'eks',
        action: 'ListClusters',
        send: (attempts: number) => new EKSClient({ ...cfg(), maxAttempts: attempts }).send(new ListClustersCommand({})),
      },
      {
        protocol: 'rest-xml (s3)',
        service: 's3',
        action: 'CreateBucket',
        send: (attempts: number) =>
          new S3Client({ ...cfg(), forcePathStyle: true, maxAttempts: attempts }).send(new CreateBucketCommand({ Bucket: 'b-retry' })),
      },
    ];

    for (const c of cases) {
      it(`throttle times:3 then success: ${c.protocol}`, async () => {
        proxy.addRule({ service: c.service, action: c.action, fault: 'throttle', times: 3 });
        const out = (await c.send(4)) as { $metadata: { attempts?: number; httpStatusCode?: number } };
        expect(out.$metadata.httpStatusCode).toBe(200);
        expect(out.$metadata.attempts).toBe(4);
        const tries = proxy.calls.filter((x) => x.action === c.action);
        expect(tries.map((x) => x.injected ?? 'ok')).toEqual(['throttle', 'throttle', 'throttle', 'ok']);
        // Injected faults never reached AWS, so only the last attempt is counted.
        expect(proxy.mutatingCount()).toBe(c.action === 'ListClusters' ? 0 : 1);
      });

      it(`error5xx times:2 then success: ${c.protocol}`, async () => {
        proxy.addRule({ service: c.service, action: c.action, fault: 'error5xx', times: 2 });
        const out = (await c.send(4)) as { $metadata: { attempts?: number } };
        expect(out.$metadata.attempts).toBe(3);
        expect(proxy.calls.filter((x) => x.action === c.action).map((x) => x.status)).toEqual([500, 500, 200]);
      });

      it(`throttling beyond maxAttempts surfaces the throttling error: ${c.protocol}`, async () => {
        proxy.addRule({ service: c.service, action: c.action, fault: 'throttle' });
        const err = await c.send(2).catch((e: unknown) => e);
        expect(err).toMatchObject({ name: c.service === 's3' ? 'SlowDown' : c.service === 'sns' ? 'Throttling' : 'ThrottlingException' });
        expect((err as { $metadata: { attempts: number } }).$metadata.attempts).toBe(2);
      });
    }
  });

  it('a 503 error5xx is retried too', async () => {
    proxy.addRule({ service: 'firehose', fault: 'error5xx', status: 503, times: 1 });
    const out = await new FirehoseClient(cfg()).send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 's',
        ExtendedS3DestinationConfiguration: { RoleARN: ROLE_ARN, BucketARN: 'arn:aws:s3:::b' },
      }),
    );
    expect(out.$metadata.attempts).toBe(2);
  });

  it('fail surfaces the code as err.name, without retries', async () => {
    proxy.addRule({ service: 'iam', action: 'CreateRole', fault: 'fail' });
    proxy.addRule({ service: 'firehose', fault: 'fail', times: 1 });
    proxy.addRule({ service: 'eks', fault: 'fail', code: 'ResourceInUseException', status: 409, message: 'busy', times: 1 });
    proxy.addRule({ service: 's3', action: 'PutBucketPolicy', fault: 'fail', times: 1 });

    const iamErr = await new IAMClient(cfg())
      .send(new CreateRoleCommand({ RoleName: 'x', AssumeRolePolicyDocument: TRUST }))
      .catch((e: unknown) => e);
    expect(iamErr).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403, attempts: 1 } });
    expect((iamErr as Error).message).toContain('iam:CreateRole');

    const fhErr = await new FirehoseClient(cfg())
      .send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'x' }))
      .catch((e: unknown) => e);
    expect(fhErr).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400, attempts: 1 } });

    proxy.addRule({ service: 'sqs', action: 'CreateQueue', fault: 'fail', times: 1 });
    const sqsErr = await new SQSClient(cfg()).send(new CreateQueueCommand({ QueueName: 'q' })).catch((e: unknown) => e);
    expect(sqsErr).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400, attempts: 1 } });

    const eksErr = await new EKSClient(cfg()).send(new ListClustersCommand({})).catch((e: unknown) => e);
    expect(eksErr).toMatchObject({ name: 'ResourceInUseException', message: 'busy', $metadata: { httpStatusCode: 409 } });

    const s3 = new S3Client({ ...cfg(), forcePathStyle: true });
    await markFixture(new S3Client({ ...cfg(), forcePathStyle: true })).send(new CreateBucketCommand({ Bucket: 'b-fail' }));
    const s3Err = await s3.send(new PutBucketPolicyCommand({ Bucket: 'b-fail', Policy: '{}' })).catch((e: unknown) => e);
    expect(s3Err).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403, attempts: 1 } });

    // No IAM role was created: the fault answered instead of AWS.
    const roles = await markFixture(new IAMClient(cfg())).send(new ListRolesCommand({}));
    expect(roles.Roles ?? []).toHaveLength(0);
  });

  it('delay applies only to the selected action, then forwards', async () => {
    const eks = new EKSClient(cfg());
    await markFixture(new EKSClient(cfg())).send(
      new CreateClusterCommand({ name: 'slow', roleArn: ROLE_ARN, resourcesVpcConfig: { subnetIds: [] } }),
    );
    proxy.addRule({ service: 'eks', action: 'UpdateClusterConfig', fault: 'delay', delayMs: 400 });

    await eks.send(new DescribeClusterCommand({ name: 'slow' }));
    expect(proxy.calls.find((c) => c.action === 'DescribeCluster')?.injected).toBeUndefined();

    const t = Date.now();
    const out = await eks.send(
      new UpdateClusterConfigCommand({ name: 'slow', logging: { clusterLogging: [{ types: ['audit'], enabled: true }] } }),
    );
    expect(Date.now() - t).toBeGreaterThanOrEqual(390);
    expect(out.$metadata.httpStatusCode).toBe(200);
    const call = proxy.calls.find((c) => c.action === 'UpdateClusterConfig');
    expect(call).toMatchObject({ injected: 'delay', status: 200 });
    expect(call?.ms).toBeGreaterThanOrEqual(390);
  });

  it('fixture requests are recorded but never faulted or counted', async () => {
    proxy.addRule({ fault: 'fail' });
    const fixture = markFixture(new SNSClient(cfg()));
    await fixture.send(new CreateTopicCommand({ Name: 'fx' }));
    await fixture.send(new ListTopicsCommand({}));
    expect(proxy.calls.map((c) => [c.action, c.fixture, c.status])).toEqual([
      ['CreateTopic', true, 200],
      ['ListTopics', true, 200],
    ]);
    expect(proxy.mutatingCount()).toBe(0);

    const err = await new SNSClient(cfg()).send(new CreateTopicCommand({ Name: 'real' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AccessDenied' });
    expect(proxy.calls.at(-1)).toMatchObject({ action: 'CreateTopic', fixture: false, injected: 'fail' });
  });

  it('onMutating numbers non-fixture mutating requests in the order they reach AWS', async () => {
    const log: Array<[number, string]> = [];
    proxy.onMutating((n, call) => {
      log.push([n, call.action]);
    });
    const sns = new SNSClient(cfg());
    const fixture = markFixture(new SNSClient(cfg()));
    await sns.send(new CreateTopicCommand({ Name: 'a' }));
    await sns.send(new ListTopicsCommand({}));
    await fixture.send(new CreateTopicCommand({ Name: 'fx' }));
    await sns.send(new CreateTopicCommand({ Name: 'b' }));
    expect(log).toEqual([
      [1, 'CreateTopic'],
      [2, 'CreateTopic'],
    ]);
    expect(proxy.mutatingCount()).toBe(2);
  });

  it("'hold' never forwards nor answers; 'noreply' applies at AWS but never answers", async () => {
    const sns = new SNSClient({ ...cfg(), maxAttempts: 1 });
    proxy.onMutating((n) => (n === 1 ? 'hold' : n === 2 ? 'noreply' : undefined));

    const held = await sns
      .send(new CreateTopicCommand({ Name: 'held' }), { abortSignal: AbortSignal.timeout(300) })
      .catch((e: unknown) => e);
    expect(held).toBeInstanceOf(Error);
    const lost = await sns
      .send(new CreateTopicCommand({ Name: 'applied' }), { abortSignal: AbortSignal.timeout(300) })
      .catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(Error);
    await proxy.idle();

    const topics = await markFixture(new SNSClient(cfg())).send(new ListTopicsCommand({}));
    expect((topics.Topics ?? []).map((t) => t.TopicArn?.split(':').at(-1))).toEqual(['applied']);
    expect(proxy.calls.filter((c) => !c.fixture).map((c) => [c.injected, c.status])).toEqual([
      ['hold', 0],
      ['noreply', 200],
    ]);
  });

  it('kill after the N-th mutating request: exactly N reach AWS (real child process, SIGKILL)', async () => {
    const N = 2;
    const script = `
      import { SNSClient, CreateTopicCommand } from '@aws-sdk/client-sns';
      const sns = new SNSClient({});
      for (let i = 1; i <= 5; i++) await sns.send(new CreateTopicCommand({ Name: 'topic-' + i }));
      console.log('finished');
    `;
    const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
      cwd: process.cwd(),
      env: isolatedAwsEnv(proxy.endpoint),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    proxy.holdAfter(N, () => child.kill('SIGKILL'));

    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
    expect(signal, output).toBe('SIGKILL');
    await proxy.idle();

    const topics = await markFixture(new SNSClient(cfg())).send(new ListTopicsCommand({}));
    expect((topics.Topics ?? []).map((t) => t.TopicArn?.split(':').at(-1)).sort()).toEqual(['topic-1', 'topic-2']);
    expect(proxy.mutatingCount()).toBe(N + 1);
    expect(proxy.calls.filter((c) => !c.fixture).map((c) => c.injected ?? 'ok')).toEqual(['ok', 'ok', 'hold']);
  });
});
