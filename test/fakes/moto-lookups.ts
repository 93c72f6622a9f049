/**
 * {@link DestinationLookups} answered from moto's state: SDK calls straight to moto (not through the fault
 * proxy, so they never show up in its `calls`), each acting in the destination's own account
 * (`x-moto-account-id`) and region.
 */
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { asAccount, DUMMY_CREDENTIALS, parseArn } from './moto-accounts.js';
import type { DestinationLookups } from './s3-notifications.js';

const notFound = (err: unknown): boolean => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    e?.$metadata?.httpStatusCode === 404 ||
    ['NotFound', 'NotFoundException', 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'ResourceNotFoundException'].includes(
      e?.name ?? '',
    )
  );
};

/** Lookups against moto at `endpoint`. `destroy()` closes the SDK clients it made. */
export function motoLookups(endpoint: string): DestinationLookups & { destroy(): void } {
  const clients = new Map<string, { sns: SNSClient; sqs: SQSClient; kms: KMSClient }>();
  const get = (region: string, account: string) => {
    const k = `${account}/${region}`;
    let c = clients.get(k);
    if (!c) {
      const cfg = { region, endpoint, credentials: DUMMY_CREDENTIALS, maxAttempts: 1 };
      c = {
        sns: asAccount(new SNSClient(cfg), account),
        sqs: asAccount(new SQSClient(cfg), account),
        kms: asAccount(new KMSClient(cfg), account),
      };
      clients.set(k, c);
    }
    return c;
  };
  const where = (arn: string) => {
    const p = parseArn(arn);
    return { region: p?.region || 'us-east-1', account: p?.account || '123456789012', resource: p?.resource ?? '' };
  };

  return {
    async topic(arn) {
      const w = where(arn);
      try {
        const out = await get(w.region, w.account).sns.send(new GetTopicAttributesCommand({ TopicArn: arn }));
        const a = out.Attributes ?? {};
        return { ...(a.Policy ? { policy: a.Policy } : {}), ...(a.KmsMasterKeyId ? { kmsMasterKeyId: a.KmsMasterKeyId } : {}) };
      } catch (err) {
        if (notFound(err)) return undefined;
        throw err;
      }
    },
    async queue(arn) {
      const w = where(arn);
      const { sqs } = get(w.region, w.account);
      try {
        const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: w.resource, QueueOwnerAWSAccountId: w.account }));
        const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['Policy', 'KmsMasterKeyId'] }));
        const a = out.Attributes ?? {};
        return { ...(a.Policy ? { policy: a.Policy } : {}), ...(a.KmsMasterKeyId ? { kmsMasterKeyId: a.KmsMasterKeyId } : {}) };
      } catch (err) {
        if (notFound(err)) return undefined;
        throw err;
      }
    },
    async lambda(arn) {
      const w = where(arn);
      // No Lambda client among the dev dependencies: moto's REST API, signed only enough for moto to route it.
      const headers = {
        authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${w.region}/lambda/aws4_request, SignedHeaders=host, Signature=0`,
        'x-moto-account-id': w.account,
      };
      const fn = await fetch(`${endpoint}/2015-03-31/functions/${encodeURIComponent(arn)}`, { headers });
      await fn.arrayBuffer();
      if (fn.status === 404) return undefined;
      if (!fn.ok) throw new Error(`moto GetFunction ${arn}: HTTP ${fn.status}`);
      const pol = await fetch(`${endpoint}/2015-03-31/functions/${encodeURIComponent(arn)}/policy`, { headers });
      const body = (await pol.json().catch(() => ({}))) as { Policy?: string };
      return pol.ok && body.Policy ? { policy: body.Policy } : {};
    },
    async key(keyId, region, account) {
      if (/^alias\/aws\//.test(keyId) || /:alias\/aws\//.test(keyId)) {
        return { arn: `arn:aws:kms:${region}:${account}:${keyId.replace(/^.*:(alias\/)/, '$1')}`, enabled: true, awsManaged: true };
      }
      const { kms } = get(region, account);
      try {
        const meta = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
        if (!meta?.KeyId) return undefined;
        const policy = (await kms.send(new GetKeyPolicyCommand({ KeyId: meta.KeyId, PolicyName: 'default' }))).Policy;
        return {
          arn: meta.Arn ?? keyId,
          enabled: meta.KeyState === 'Enabled',
          awsManaged: meta.KeyManager === 'AWS',
          ...(policy ? { policy } : {}),
        };
      } catch (err) {
        if (notFound(err)) return undefined;
        throw err;
      }
    },
    destroy() {
      for (const c of clients.values()) {
        c.sns.destroy();
        c.sqs.destroy();
        c.kms.destroy();
      }
      clients.clear();
    },
  };
}
