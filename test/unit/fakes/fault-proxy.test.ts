/**
 * The fault proxy without moto: request classification, and every protocol's error answer as the AWS SDK v3
 * sees it (name, message, HTTP status), against a tiny stub upstream. The moto-backed half (retries through,
 * kill-after-N, S3 destination checks, accounts from real AssumeRole answers) is test/e2e/fakes.fault-proxy.test.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudWatchLogsClient, CreateLogGroupCommand, ResourceAlreadyExistsException } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeClusterCommand, EKSClient, ResourceNotFoundException as EksNotFound, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { CreateDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import { GetRoleCommand, IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import { DescribeOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { HeadBucketCommand, PutBucketNotificationConfigurationCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { GetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand, QueueDoesNotExist, SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyRequest, keyFromAnswer, markFixture, startFaultProxy, type FaultProxy } from '../../fakes/fault-proxy.js';
import { AMBIGUOUS_MESSAGE, OVERLAP_MESSAGE } from '../../fakes/s3-notifications.js';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const MEMBER = '111122223333';

describe('classifyRequest (no network)', () => {
  const auth = (region: string, service: string): Record<string, string> => ({
    authorization: `AWS4-HMAC-SHA256 Credential=testing/20261127/${region}/${service}/aws4_request, SignedHeaders=host, Signature=00`,
  });

  it('reads service and region from the credential scope', () => {
    const c = classifyRequest('POST', '/', { ...auth('eu-central-1', 'logs'), 'x-amz-target': 'Logs_20140328.PutLogEvents' }, Buffer.alloc(0));
    expect(c).toMatchObject({ service: 'logs', region: 'eu-central-1', action: 'PutLogEvents', mutating: true, protocol: 'json' });
  });

  it('maps EKS and S3 paths, with their path labels', () => {
    const eks = (m: string, p: string): string => classifyRequest(m, p, auth('us-east-1', 'eks'), Buffer.alloc(0)).action;
    expect(eks('POST', '/clusters/demo/update-config')).toBe('UpdateClusterConfig');
    expect(eks('GET', '/clusters/demo')).toBe('DescribeCluster');
    expect(eks('GET', '/clusters/demo/updates/abc')).toBe('DescribeUpdate');
    expect(eks('GET', '/clusters?maxResults=100')).toBe('ListClusters');
    expect(eks('POST', '/tags/arn%3Aaws%3Aeks%3Aus-east-1%3A1%3Acluster%2Fdemo')).toBe('TagResource');
    expect(classifyRequest('POST', '/clusters/demo/update-config', auth('us-east-1', 'eks'), Buffer.alloc(0)).labels).toEqual({ name: 'demo' });
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
    expect(classifyRequest('PUT', '/b/a/b%20c.json?x-id=PutObject', auth('eu-central-1', 's3'), Buffer.alloc(0)).labels).toEqual({
      Bucket: 'b',
      Key: 'a/b c.json',
    });
  });

  it('reads Action from a form body; Organizations by its target', () => {
    const c = classifyRequest(
      'POST',
      '/',
      { ...auth('us-east-1', 'iam'), 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      Buffer.from('Action=GetRole&Version=2010-05-08&RoleName=x'),
    );
    expect(c).toMatchObject({ service: 'iam', action: 'GetRole', mutating: false, protocol: 'query' });
    const o = classifyRequest('POST', '/', { 'x-amz-target': 'AWSOrganizationsV20161128.CreateAccount' }, Buffer.from('{}'));
    expect(o).toMatchObject({ service: 'organizations', action: 'CreateAccount', mutating: true, protocol: 'json' });
  });

  it('reads the key and its account from STS and IAM answers (XML and JSON)', () => {
    const xml =
      '<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAEXAMPLE1</AccessKeyId></Credentials>' +
      `<AssumedRoleUser><Arn>arn:aws:sts::${MEMBER}:assumed-role/R/s</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>`;
    expect(keyFromAnswer(xml, '123456789012')).toEqual({ accessKeyId: 'ASIAEXAMPLE1', account: MEMBER });
    expect(keyFromAnswer('<CreateAccessKeyResult><AccessKey><AccessKeyId>AKIA2</AccessKeyId></AccessKey></CreateAccessKeyResult>', '444455556666')).toEqual({
      accessKeyId: 'AKIA2',
      account: '444455556666',
    });
    expect(keyFromAnswer(JSON.stringify({ Credentials: { AccessKeyId: 'ASIA3' }, AssumedRoleUser: { Arn: `arn:aws:sts::${MEMBER}:assumed-role/R/s` } }), 'x')).toEqual({
      accessKeyId: 'ASIA3',
      account: MEMBER,
    });
    expect(keyFromAnswer('<Nothing/>', 'x')).toBeUndefined();
  });
});

/** A stand-in for moto: AssumeRole and GetCallerIdentity in XML, `{}` for JSON calls, 200 for the rest. */
async function startStub(): Promise<{ url: string; hits: string[]; stop(): Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const action = form.get('Action') ?? req.headers['x-amz-target'] ?? `${req.method} ${req.url}`;
      hits.push(String(action));
      if (action === 'AssumeRole') {
        const account = /^arn:aws:iam::(\d{12}):role\/(.+)$/.exec(form.get('RoleArn') ?? '');
        const body =
          '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>' +
          `<AccessKeyId>ASIA${account?.[1]}</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken>` +
          '<Expiration>2030-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROA:s</AssumedRoleId>' +
          `<Arn>arn:aws:sts::${account?.[1]}:assumed-role/${account?.[2]}/s</Arn></AssumedRoleUser></AssumeRoleResult>` +
          '<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>';
        res.writeHead(200, { 'content-type': 'text/xml' }).end(body);
        return;
      }
      if (action === 'GetCallerIdentity') {
        const body =
          '<GetCallerIdentityResponse><GetCallerIdentityResult><Account>123456789012</Account><Arn>arn:aws:sts::123456789012:user/moto</Arn>' +
          '<UserId>AKIA</UserId></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>';
        res.writeHead(200, { 'content-type': 'text/xml' }).end(body);
        return;
      }
      if (req.headers['x-amz-target']) {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end('{}');
        return;
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}

describe('errors as the SDK sees them, per protocol (stub upstream)', () => {
  let stub: Awaited<ReturnType<typeof startStub>>;
  let proxy: FaultProxy;
  const cfg = (region = 'us-east-1') => ({ endpoint: proxy.endpoint, region, credentials, maxAttempts: 1 });
  const caught = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected an error');
      },
      (e: unknown) => e as Error & { $metadata: { httpStatusCode?: number }; [k: string]: unknown },
    );

  beforeAll(async () => {
    stub = await startStub();
    proxy = await startFaultProxy(stub.url, { validateS3Notifications: true });
  });
  afterAll(async () => {
    await proxy?.stop();
    await stub?.stop();
  });
  beforeEach(() => {
    proxy.clearRules();
    proxy.resetCalls();
    stub.hits.length = 0;
  });

  it('JSON (CloudWatch Logs, Firehose): code, message and status, modelled exception class', async () => {
    proxy.addRule({ service: 'logs', action: 'CreateLogGroup', fault: 'error', code: 'ResourceAlreadyExistsException', message: 'The specified log group already exists' });
    const err = await caught(new CloudWatchLogsClient(cfg()).send(new CreateLogGroupCommand({ logGroupName: 'g' })));
    expect(err).toBeInstanceOf(ResourceAlreadyExistsException);
    expect(err).toMatchObject({ name: 'ResourceAlreadyExistsException', message: 'The specified log group already exists', $metadata: { httpStatusCode: 400 } });

    const wording =
      'The security token included in the request is invalid. Ensure that the provided IAM role associated with firehose is not deleted.';
    proxy.addRule({ service: 'firehose', action: 'CreateDeliveryStream', fault: 'error', code: 'InvalidArgumentException', message: wording, times: 1 });
    const fh = await caught(new FirehoseClient(cfg()).send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 's' })));
    expect(fh).toMatchObject({ name: 'InvalidArgumentException', message: wording, $metadata: { httpStatusCode: 400 } });
    expect(stub.hits).toEqual([]);
  });

  it('JSON, query-compatible (SQS): name, message, status and the query code', async () => {
    proxy.addRule({
      service: 'sqs',
      fault: 'error',
      code: 'QueueDoesNotExist',
      queryError: 'AWS.SimpleQueueService.NonExistentQueue',
      message: 'The specified queue does not exist.',
    });
    const err = await caught(new SQSClient(cfg()).send(new GetQueueUrlCommand({ QueueName: 'q' })));
    expect(err).toBeInstanceOf(QueueDoesNotExist);
    expect(err).toMatchObject({ name: 'QueueDoesNotExist', message: 'The specified queue does not exist.', $metadata: { httpStatusCode: 400 } });
    expect(err.Code).toBe('AWS.SimpleQueueService.NonExistentQueue');
  });

  it('JSON (Organizations)', async () => {
    proxy.addRule({ service: 'organizations', fault: 'error', code: 'AWSOrganizationsNotInUseException', message: 'Your account is not a member of an organization.' });
    const err = await caught(new OrganizationsClient(cfg()).send(new DescribeOrganizationCommand({})));
    expect(err).toMatchObject({ name: 'AWSOrganizationsNotInUseException', message: 'Your account is not a member of an organization.', $metadata: { httpStatusCode: 400 } });
  });

  it('REST-JSON (EKS): code from x-amzn-errortype, extra members, selected by a path label', async () => {
    proxy.addRule({ service: 'eks', action: 'DescribeCluster', params: { name: 'nope' }, fault: 'error', status: 404, code: 'ResourceNotFoundException', message: 'No cluster found for name: nope.', fields: { clusterName: 'nope' } });
    proxy.addRule({ service: 'eks', action: 'UpdateClusterConfig', fault: 'error', code: 'InvalidParameterException', message: 'No changes needed for the logging config provided' });
    const eks = new EKSClient(cfg());
    const err = await caught(eks.send(new DescribeClusterCommand({ name: 'nope' })));
    expect(err).toBeInstanceOf(EksNotFound);
    expect(err).toMatchObject({ name: 'ResourceNotFoundException', message: 'No cluster found for name: nope.', clusterName: 'nope', $metadata: { httpStatusCode: 404 } });
    const upd = await caught(eks.send(new UpdateClusterConfigCommand({ name: 'prod', logging: { clusterLogging: [{ types: ['audit'], enabled: true }] } })));
    expect(upd).toMatchObject({ name: 'InvalidParameterException', message: 'No changes needed for the logging config provided', $metadata: { httpStatusCode: 400 } });
    // DescribeCluster of another name is not selected: forwarded (the stub answers an empty 200).
    await eks.send(new DescribeClusterCommand({ name: 'prod' }));
    expect(stub.hits).toEqual(['GET /clusters/prod']);
  });

  it('query (IAM, SNS): <ErrorResponse> with Type, Code, Message', async () => {
    proxy.addRule({ service: 'iam', action: 'GetRole', fault: 'error', status: 404, code: 'NoSuchEntity', message: 'The role with name x cannot be found.' });
    const err = await caught(new IAMClient(cfg()).send(new GetRoleCommand({ RoleName: 'x' })));
    expect(err).toBeInstanceOf(NoSuchEntityException);
    // The SDK names a modelled query error after its class, as it does for AWS's own answer.
    expect(err).toMatchObject({ name: 'NoSuchEntityException', message: 'The role with name x cannot be found.', $metadata: { httpStatusCode: 404 } });

    proxy.addRule({ service: 'sns', fault: 'error', status: 404, code: 'NotFound', message: 'Topic does not exist' });
    const sns = await caught(new SNSClient(cfg('eu-central-1')).send(new GetTopicAttributesCommand({ TopicArn: 'arn:aws:sns:eu-central-1:123456789012:t' })));
    expect(sns).toMatchObject({ name: 'NotFoundException', message: 'Topic does not exist', $metadata: { httpStatusCode: 404 } });
  });

  it('query (STS): AssumeRole refused for one RoleArn only; the accounts of its answers are learnt', async () => {
    const denied = `arn:aws:iam::${MEMBER}:role/OrganizationAccountAccessRole`;
    const allowed = 'arn:aws:iam::444455556666:role/OrganizationAccountAccessRole';
    proxy.addRule({ service: 'sts', action: 'AssumeRole', params: { RoleArn: denied }, fault: 'fail' });
    const sts = new STSClient(cfg());
    const err = await caught(sts.send(new AssumeRoleCommand({ RoleArn: denied, RoleSessionName: 'forticnapp-eks-audit' })));
    expect(err).toMatchObject({
      name: 'AccessDenied',
      message: `User: arn:aws:iam::123456789012:user/moto is not authorized to perform: sts:AssumeRole on resource: ${denied}`,
      $metadata: { httpStatusCode: 403 },
    });
    const ok = await sts.send(new AssumeRoleCommand({ RoleArn: allowed, RoleSessionName: 'forticnapp-eks-audit' }));
    expect(ok.Credentials?.AccessKeyId).toBe('ASIA444455556666');
    expect(proxy.accountOfKey('ASIA444455556666')).toBe('444455556666');

    // Calls with the assumed keys are attributed to that account, and a rule can select it.
    const assumed = { accessKeyId: 'ASIA444455556666', secretAccessKey: 's', sessionToken: 't' };
    proxy.addRule({ account: '444455556666', service: 'logs', fault: 'error', code: 'AccessDeniedException', message: 'member says no' });
    const member = await caught(new CloudWatchLogsClient({ ...cfg(), credentials: assumed }).send(new CreateLogGroupCommand({ logGroupName: 'g' })));
    expect(member).toMatchObject({ name: 'AccessDeniedException', message: 'member says no' });
    await new CloudWatchLogsClient(cfg()).send(new CreateLogGroupCommand({ logGroupName: 'g' }));
    expect(proxy.calls.map((c) => `${c.action} ${c.account} ${c.injected ?? 'ok'}`)).toEqual([
      'AssumeRole 123456789012 fail',
      'AssumeRole 123456789012 ok',
      'CreateLogGroup 444455556666 error',
      'CreateLogGroup 123456789012 ok',
    ]);
  });

  it('REST-XML (S3): <Error> with extra elements; HEAD has no body, so the SDK names it by status', async () => {
    proxy.addRule({
      service: 's3',
      action: 'PutBucketPolicy',
      fault: 'error',
      code: 'MalformedPolicy',
      message: 'Policy has invalid resource',
      times: 1,
    });
    proxy.addRule({ service: 's3', action: 'HeadBucket', fault: 'error', status: 404, code: 'NoSuchBucket', message: 'unused' });
    const s3 = new S3Client({ ...cfg('eu-central-1'), forcePathStyle: true });
    const err = await caught(s3.send(new PutBucketPolicyCommand({ Bucket: 'b', Policy: '{}' })));
    expect(err).toMatchObject({ name: 'MalformedPolicy', message: 'Policy has invalid resource', $metadata: { httpStatusCode: 400 } });
    const head = await caught(s3.send(new HeadBucketCommand({ Bucket: 'b' })));
    expect(head).toMatchObject({ name: 'NotFound', $metadata: { httpStatusCode: 404 } });
  });

  it('selects by region, by a params RegExp and by a predicate; times, hits and remove()', async () => {
    const logs = (region: string) => new CloudWatchLogsClient(cfg(region));
    const eu = proxy.addRule({ region: 'eu-central-1', service: 'logs', fault: 'error', code: 'ServiceUnavailableException', status: 503, message: 'eu down', times: 1 });
    const pre = proxy.addRule({ service: 'logs', params: { logGroupName: /^\/aws\/eks\/prod\// }, fault: 'error', code: 'LimitExceededException', message: 'Resource limit exceeded.' });
    proxy.addRule({ service: 'logs', match: (r) => (r.json as { tags?: object } | undefined)?.tags !== undefined, fault: 'error', code: 'InvalidParameterException', message: 'tags' });
    // maxAttempts 1: the 503 is not retried.
    await expect(logs('eu-central-1').send(new CreateLogGroupCommand({ logGroupName: 'a' }))).rejects.toMatchObject({ message: 'eu down' });
    await logs('eu-central-1').send(new CreateLogGroupCommand({ logGroupName: 'a' }));
    await logs('us-east-1').send(new CreateLogGroupCommand({ logGroupName: 'a' }));
    await expect(logs('us-east-1').send(new CreateLogGroupCommand({ logGroupName: '/aws/eks/prod/cluster' }))).rejects.toMatchObject({ name: 'LimitExceededException' });
    await expect(logs('us-east-1').send(new CreateLogGroupCommand({ logGroupName: 'x', tags: { a: 'b' } }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
    expect([eu.hits, eu.left, pre.hits]).toEqual([1, 0, 1]);
    pre.remove();
    await logs('us-east-1').send(new CreateLogGroupCommand({ logGroupName: '/aws/eks/prod/cluster' }));
    expect(() => proxy.addRule({ fault: 'error' })).toThrow(/needs a code/);
  });

  it('throttle and error5xx defaults keep their shapes', async () => {
    proxy.addRule({ service: 'sts', fault: 'throttle', times: 1 });
    proxy.addRule({ service: 'eks', fault: 'throttle', times: 1 });
    const t = await caught(new STSClient(cfg()).send(new GetCallerIdentityCommand({})));
    expect(t).toMatchObject({ name: 'Throttling', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    const e = await caught(new EKSClient(cfg()).send(new DescribeClusterCommand({ name: 'x' })));
    expect(e).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } });
  });

  it('S3 emulation refuses overlapping notification rules in S3 XML, before asking anything about destinations', async () => {
    const s3 = new S3Client({ ...cfg('eu-central-1'), forcePathStyle: true });
    const topic = (n: string) => `arn:aws:sns:eu-central-1:123456789012:${n}`;
    const put = (configs: Array<{ arn: string; events: string[]; prefix?: string; suffix?: string }>, fixture = false) => {
      const client = fixture ? markFixture(new S3Client({ ...cfg('eu-central-1'), forcePathStyle: true })) : s3;
      return client.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: 'existing',
          NotificationConfiguration: {
            TopicConfigurations: configs.map((c, i) => ({
              Id: `r${i}`,
              TopicArn: c.arn,
              Events: c.events as never,
              ...(c.prefix !== undefined || c.suffix !== undefined
                ? {
                    Filter: {
                      Key: {
                        FilterRules: [
                          ...(c.prefix !== undefined ? [{ Name: 'prefix' as const, Value: c.prefix }] : []),
                          ...(c.suffix !== undefined ? [{ Name: 'suffix' as const, Value: c.suffix }] : []),
                        ],
                      },
                    },
                  }
                : {}),
            })),
          },
        }),
      );
    };
    const both = await caught(put([{ arn: topic('a'), events: ['s3:ObjectCreated:*'] }, { arn: topic('b'), events: ['s3:ObjectCreated:Put'] }]));
    expect(both).toMatchObject({
      name: 'InvalidArgument',
      message: OVERLAP_MESSAGE,
      ArgumentName: 'Event',
      ArgumentValue: 's3:ObjectCreated:*, s3:ObjectCreated:Put',
      $metadata: { httpStatusCode: 400 },
    });
    // The issue-11 case: an unfiltered rule already there, ours with a prefix.
    const ours = await caught(
      put([{ arn: topic('other'), events: ['s3:ObjectCreated:*'] }, { arn: topic('ours'), events: ['s3:ObjectCreated:*'], prefix: 'eks_audit_logs/123456789012' }], true),
    );
    expect(ours).toMatchObject({ name: 'InvalidArgument', message: AMBIGUOUS_MESSAGE, $metadata: { httpStatusCode: 400 } });
    expect(proxy.calls.map((c) => [c.injected, c.fixture])).toEqual([
      ['validation', false],
      ['validation', true],
    ]);
    expect(proxy.mutatingCount()).toBe(0);
    expect(stub.hits).toEqual([]);
  });

  it('under concurrency: a times-N rule affects exactly N of many parallel calls; two proxies never share rules', async () => {
    const other = await startFaultProxy(stub.url);
    try {
      const rule = proxy.addRule({ service: 'logs', fault: 'error', code: 'ThrottlingException', message: 'Rate exceeded', times: 10 });
      other.addRule({ service: 'logs', fault: 'error', code: 'AccessDeniedException', message: 'other proxy' });
      const clients = Array.from({ length: 5 }, () => new CloudWatchLogsClient(cfg()));
      const results = await Promise.allSettled(
        Array.from({ length: 60 }, (_, i) => clients[i % 5]!.send(new CreateLogGroupCommand({ logGroupName: `g${i}` }))),
      );
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(10);
      expect(rule.hits).toBe(10);
      expect(proxy.calls.filter((c) => c.injected === 'error')).toHaveLength(10);
      expect(proxy.calls.map((c) => c.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect(proxy.mutatingCount()).toBe(50);
      await expect(new CloudWatchLogsClient({ ...cfg(), endpoint: other.endpoint }).send(new CreateLogGroupCommand({ logGroupName: 'x' }))).rejects.toMatchObject({
        message: 'other proxy',
      });
      expect(other.calls).toHaveLength(1);
    } finally {
      await other.stop();
    }
  });
});
