/**
 * The fault proxy in front of a real moto: every call the product makes is classified, throttling and 5xx
 * are retried through by the SDK, kill-after-N holds exactly, S3's notification checks read moto's state,
 * and calls made with assumed credentials are attributed to the member account. (The moto-free half is
 * test/unit/fakes/fault-proxy.test.ts.)
 */
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
import { CreateAccountCommand, CreateOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { markFixture, startFaultProxy, type FaultProxy } from '../fakes/fault-proxy.js';
import { isolatedAwsEnv, leaseMoto, requireMotoOrSkip, startMoto, type MotoServer } from '../fakes/moto.js';

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

describe.skipIf(!run)('fault proxy in front of moto', () => {
  let moto: MotoServer;
  let proxy: FaultProxy;

  beforeAll(async () => {
    moto = (await leaseMoto()) ?? (await startMoto());
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

  describe('S3 PutBucketNotificationConfiguration checks, reading moto', () => {
    const HOME = 'eu-central-1';
    const BUCKET = 'existing-audit';
    const s3 = () => new S3Client({ ...cfg(HOME), forcePathStyle: true, maxAttempts: 1 });
    const fx = {
      s3: () => markFixture(new S3Client({ ...cfg(HOME), forcePathStyle: true })),
      sns: () => markFixture(new SNSClient(cfg(HOME))),
      sqs: () => markFixture(new SQSClient(cfg(HOME))),
      kms: () => markFixture(new KMSClient(cfg(HOME))),
    };
    /** A topic S3 may publish to from BUCKET (the product's own statement shape). */
    const s3MayPublish = (topicArn: string, account = ACCOUNT) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AllowS3ToPublish',
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: topicArn,
            Condition: { StringEquals: { 'AWS:SourceAccount': account }, ArnLike: { 'AWS:SourceArn': `arn:aws:s3:*:*:${BUCKET}` } },
          },
        ],
      });
    async function topic(name: string, opts: { policy?: (arn: string) => string; kms?: string } = {}): Promise<string> {
      const arn =
        (await fx.sns().send(new CreateTopicCommand({ Name: name, ...(opts.kms ? { Attributes: { KmsMasterKeyId: opts.kms } } : {}) }))).TopicArn ?? '';
      if (opts.policy) await fx.sns().send(new SetTopicAttributesCommand({ TopicArn: arn, AttributeName: 'Policy', AttributeValue: opts.policy(arn) }));
      return arn;
    }
    const put = (rules: Array<{ id: string; arn: string; prefix?: string; kind?: 'topic' | 'queue' }>) =>
      s3().send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: BUCKET,
          NotificationConfiguration: {
            TopicConfigurations: rules
              .filter((r) => (r.kind ?? 'topic') === 'topic')
              .map((r) => ({
                Id: r.id,
                TopicArn: r.arn,
                Events: ['s3:ObjectCreated:*'],
                ...(r.prefix ? { Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: r.prefix }] } } } : {}),
              })),
            QueueConfigurations: rules.filter((r) => r.kind === 'queue').map((r) => ({ Id: r.id, QueueArn: r.arn, Events: ['s3:ObjectRemoved:*'] })),
          },
        }),
      );
    const refused = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Record<string, unknown>);
    const stored = async () =>
      ((await fx.s3().send(new GetBucketNotificationConfigurationCommand({ Bucket: BUCKET }))).TopicConfigurations ?? []).map((t) => t.Id);

    beforeEach(async () => {
      proxy.validateS3Notifications(true);
      await fx.s3().send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: HOME } }));
    });
    afterEach(() => {
      proxy.validateS3Notifications(false);
      expect(proxy.emulationErrors).toEqual([]);
    });

    it('accepts a destination whose policy lets S3 publish from this bucket; moto then holds it', async () => {
      const arn = await topic('ok-topic', { policy: s3MayPublish });
      await put([{ id: 'ours', arn, prefix: 'eks_audit_logs/' }]);
      expect(await stored()).toEqual(['ours']);
      expect(proxy.calls.filter((c) => !c.fixture).map((c) => [c.action, c.status, c.injected])).toEqual([
        ['PutBucketNotificationConfiguration', 200, undefined],
      ]);
    });

    it('refuses a missing topic, a default topic policy and a policy for another account, naming each', async () => {
      const missing = `arn:aws:sns:${HOME}:${ACCOUNT}:gone`;
      const plain = await topic('plain');
      const other = await topic('other-account', { policy: (a) => s3MayPublish(a, '999988887777') });
      const err = await refused(put([{ id: 'a', arn: missing, prefix: 'a/' }, { id: 'b', arn: plain, prefix: 'b/' }, { id: 'c', arn: other, prefix: 'c/' }]));
      expect(err).toMatchObject({
        name: 'InvalidArgument',
        message: 'Unable to validate the following destination configurations',
        $metadata: { httpStatusCode: 400 },
        ArgumentName1: missing,
        ArgumentValue1: 'The destination topic does not exist',
        ArgumentName2: plain,
        ArgumentValue2: 'Permissions on the destination topic do not allow S3 to publish notifications from this bucket',
        ArgumentName3: other,
        ArgumentValue3: 'Permissions on the destination topic do not allow S3 to publish notifications from this bucket',
      });
      expect(await stored()).toEqual([]);
      expect(proxy.mutatingCount()).toBe(0);
    });

    it('an existing rule whose topic was deleted fails the next put, though our own rule is fine (issue 11, 2)', async () => {
      const theirs = await topic('theirs', { policy: s3MayPublish });
      await put([{ id: 'theirs', arn: theirs, prefix: 'app/' }]);
      await fx.sns().send(new DeleteTopicCommand({ TopicArn: theirs }));
      const ours = await topic('ours', { policy: s3MayPublish });
      const err = await refused(put([{ id: 'theirs', arn: theirs, prefix: 'app/' }, { id: 'ours', arn: ours, prefix: 'eks_audit_logs/' }]));
      expect(err).toMatchObject({ ArgumentName1: theirs, ArgumentValue1: 'The destination topic does not exist' });
      expect(err).not.toHaveProperty('ArgumentName2');
      expect(await stored()).toEqual(['theirs']);
    });

    it('an unfiltered ObjectCreated rule already there: ours (filtered) overlaps it', async () => {
      const theirs = await topic('theirs', { policy: s3MayPublish });
      await put([{ id: 'theirs', arn: theirs }]);
      const ours = await topic('ours', { policy: s3MayPublish });
      const err = await refused(put([{ id: 'theirs', arn: theirs }, { id: 'ours', arn: ours, prefix: 'eks_audit_logs/' }]));
      expect(err).toMatchObject({
        name: 'InvalidArgument',
        message: 'Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the prefixes are overlapping for the same event type.',
        $metadata: { httpStatusCode: 400 },
      });
    });

    it('queues need a policy for S3 too', async () => {
      const url = (await fx.sqs().send(new CreateQueueCommand({ QueueName: 'events' }))).QueueUrl ?? '';
      const arn = `arn:aws:sqs:${HOME}:${ACCOUNT}:events`;
      const err = await refused(put([{ id: 'q', arn, kind: 'queue' }]));
      expect(err).toMatchObject({ ArgumentName1: arn, ArgumentValue1: 'Permissions on the destination queue do not allow S3 to publish notifications from this bucket' });
      const policy = JSON.stringify({
        Statement: [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: arn, Condition: { ArnEquals: { 'aws:SourceArn': `arn:aws:s3:::${BUCKET}` } } }],
      });
      await fx.sqs().send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: policy } }));
      await put([{ id: 'q', arn, kind: 'queue' }]);
      const missing = await refused(put([{ id: 'q', arn: `arn:aws:sqs:${HOME}:${ACCOUNT}:nope`, kind: 'queue' }]));
      expect(missing).toMatchObject({ ArgumentValue1: 'The destination queue does not exist' });
    });

    it('an encrypted topic needs a customer key that is enabled and lets S3 use it', async () => {
      const rootOnly = (await fx.kms().send(new CreateKeyCommand({}))).KeyMetadata?.Arn ?? '';
      const keyPolicy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'Root', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
          {
            Sid: 'S3',
            Effect: 'Allow',
            Principal: { Service: ['s3.amazonaws.com', 'sns.amazonaws.com'] },
            Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
            Resource: '*',
            Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
          },
        ],
      });
      const goodKey = (await fx.kms().send(new CreateKeyCommand({ Policy: keyPolicy }))).KeyMetadata;
      const good = goodKey?.Arn ?? '';
      const reason = 'Permissions on the destination topic do not allow S3 to publish notifications from this bucket';
      for (const [name, key, ok] of [
        ['root-only', rootOnly, false],
        ['aws-managed', 'alias/aws/sns', false],
        ['good', good, true],
      ] as const) {
        const arn = await topic(name, { policy: s3MayPublish, kms: key });
        const err = await refused(put([{ id: name, arn }]));
        if (ok) expect(err, name).toBeUndefined();
        else expect(err, name).toMatchObject({ ArgumentName1: arn, ArgumentValue1: reason });
      }
      // (moto answers a 500 to ScheduleKeyDeletion by ARN: by id.)
      await fx.kms().send(new ScheduleKeyDeletionCommand({ KeyId: goodKey?.KeyId, PendingWindowInDays: 7 }));
      const pending = await topic('pending', { policy: s3MayPublish, kms: good });
      expect(await refused(put([{ id: 'pending', arn: pending }]))).toMatchObject({ ArgumentValue1: reason });
    });

    it('a Lambda destination that does not exist', async () => {
      const fn = `arn:aws:lambda:${HOME}:${ACCOUNT}:function:nope`;
      const err = await refused(
        s3().send(
          new PutBucketNotificationConfigurationCommand({
            Bucket: BUCKET,
            NotificationConfiguration: { LambdaFunctionConfigurations: [{ LambdaFunctionArn: fn, Events: ['s3:ObjectCreated:*'] }] },
          }),
        ),
      );
      expect(err).toMatchObject({ ArgumentName1: fn, ArgumentValue1: 'The destination Lambda does not exist' });
    });

    it('is off unless asked: moto alone accepts a missing topic', async () => {
      proxy.validateS3Notifications(false);
      await put([{ id: 'x', arn: `arn:aws:sns:${HOME}:${ACCOUNT}:gone` }]);
      expect(await stored()).toEqual(['x']);
    });
  });

  describe('accounts: Organizations and AssumeRole through the proxy', () => {
    it('attributes calls made with assumed credentials to the member account; rules select by account', async () => {
      const org = new OrganizationsClient(cfg());
      await org.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
      const member = (await org.send(new CreateAccountCommand({ AccountName: 'member-1', Email: 'm1@example.com' }))).CreateAccountStatus?.AccountId ?? '';
      expect(member).toMatch(/^\d{12}$/);
      const role = `arn:aws:iam::${member}:role/OrganizationAccountAccessRole`;
      const creds = (await new STSClient(cfg()).send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'forticnapp-eks-audit' }))).Credentials;
      expect(proxy.accountOfKey(creds?.AccessKeyId ?? '')).toBe(member);
      const assumed = {
        ...cfg('eu-central-1'),
        credentials: { accessKeyId: creds?.AccessKeyId ?? '', secretAccessKey: creds?.SecretAccessKey ?? '', sessionToken: creds?.SessionToken ?? '' },
      };
      proxy.addRule({ account: member, service: 'logs', action: 'CreateLogGroup', fault: 'error', code: 'OperationAbortedException', message: 'busy', times: 1 });
      await expect(new CloudWatchLogsClient({ ...assumed, maxAttempts: 1 }).send(new CreateLogGroupCommand({ logGroupName: 'g' }))).rejects.toMatchObject({
        name: 'OperationAbortedException',
      });
      await new CloudWatchLogsClient(assumed).send(new CreateLogGroupCommand({ logGroupName: 'g' }));
      await new CloudWatchLogsClient(cfg('eu-central-1')).send(new CreateLogGroupCommand({ logGroupName: 'mgmt' }));
      expect((await new STSClient(assumed).send(new GetCallerIdentityCommand({}))).Account).toBe(member);
      expect(proxy.calls.map((c) => `${c.service} ${c.action} ${c.account} ${c.injected ?? 'ok'}`)).toEqual([
        `organizations CreateOrganization ${ACCOUNT} ok`,
        `organizations CreateAccount ${ACCOUNT} ok`,
        `sts AssumeRole ${ACCOUNT} ok`,
        `logs CreateLogGroup ${member} error`,
        `logs CreateLogGroup ${member} ok`,
        `logs CreateLogGroup ${ACCOUNT} ok`,
        `sts GetCallerIdentity ${member} ok`,
      ]);
      // And moto agrees: each group is in its own account.
      const groups = async (c: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } }) =>
        ((await markFixture(new CloudWatchLogsClient(c)).send(new DescribeLogGroupsCommand({}))).logGroups ?? []).map((g) => g.arn?.split(':')[4]);
      expect(await groups(assumed)).toEqual([member]);
      expect(await groups(cfg('eu-central-1'))).toEqual([ACCOUNT]);
    });
  });
});
