/**
 * The fake FortiCNAPP's platform side against moto: it keeps its queue subscribed to each integration's topic
 * (create, PATCH, delete), in the topic's own account. (Rules and the API surface without moto:
 * test/unit/fakes/lacework-server.test.ts.)
 */
import { CreateTopicCommand, DeleteTopicCommand, ListSubscriptionsByTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeLacework, type FakeLacework } from '../fakes/lacework-server.js';
import { asAccount, DUMMY_CREDENTIALS } from '../fakes/moto-accounts.js';
import { leaseMoto, requireMotoOrSkip, startMoto, type MotoServer } from '../fakes/moto.js';
import { call, createBody, KEY_ID, SECRET } from '../fakes/lacework-client.js';

const run = requireMotoOrSkip();
const REGION = 'eu-central-1';
const ACCOUNT = '123456789012';
const MEMBER = '111122223333';

describe.skipIf(!run)('the fake subscribes like the platform (moto)', () => {
  let moto: MotoServer;
  let fake: FakeLacework;
  const aws = (account = ACCOUNT) => {
    const cfg = { region: REGION, endpoint: moto.endpoint, credentials: DUMMY_CREDENTIALS };
    return { sns: asAccount(new SNSClient(cfg), account), sqs: asAccount(new SQSClient(cfg), account) };
  };
  const topic = async (name: string, account = ACCOUNT) => (await aws(account).sns.send(new CreateTopicCommand({ Name: name }))).TopicArn ?? '';
  const subs = async (arn: string, account = ACCOUNT) =>
    ((await aws(account).sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: arn }))).Subscriptions ?? []).map((s) => s.SubscriptionArn);
  /** Publish to the topic and read the platform queue of that account: did it arrive? */
  const delivered = async (arn: string, account = ACCOUNT) => {
    const marker = `m-${Math.random().toString(36).slice(2)}`;
    await aws(account).sns.send(new PublishCommand({ TopicArn: arn, Message: marker }));
    const url = await fake.queueUrl(REGION, account);
    const got = await aws(account).sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    return (got.Messages ?? []).some((m) => m.Body?.includes(marker));
  };
  const create = async (arn: string) => {
    const r = await call(fake, 'POST', '/api/v2/CloudAccounts', createBody(arn));
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return (r.body as { data: { intgGuid: string } }).data.intgGuid;
  };
  const patch = (guid: string, arn: string) => call(fake, 'PATCH', `/api/v2/CloudAccounts/${guid}`, { intgGuid: guid, ...createBody(arn) });

  beforeAll(async () => {
    moto = (await leaseMoto()) ?? (await startMoto());
  });
  afterAll(async () => {
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    fake = await startFakeLacework({ account: 'acme', keyId: KEY_ID, secret: SECRET, subscribe: { endpoint: moto.endpoint } });
  });
  afterEach(async () => {
    await fake.stop();
    expect(fake.violations).toEqual([]);
  });

  it('subscribes a same-account queue on create and unsubscribes on delete', async () => {
    const arn = await topic('lw-eks-al-feedbeef');
    const guid = await create(arn);
    expect(await subs(arn)).toEqual([fake.subscriptionOf(guid)]);
    expect(await delivered(arn)).toBe(true);
    expect((await call(fake, 'DELETE', `/api/v2/CloudAccounts/${guid}`)).status).toBe(204);
    expect(await subs(arn)).toEqual([]);
  });

  it('fails the create when the topic does not exist', async () => {
    const arn = `arn:aws:sns:${REGION}:${ACCOUNT}:missing`;
    const r = await call(fake, 'POST', '/api/v2/CloudAccounts', createBody(arn));
    expect(r.status).toBe(400);
    expect((r.body as { message: string }).message).toContain(`Unable to subscribe to SNS topic ${arn}`);
    expect(fake.integrations.size).toBe(0);
  });

  it('PATCH keeps a live subscription, and subscribes again when the topic was deleted and made again', async () => {
    const arn = await topic('lw-eks-al-feedbeef');
    const guid = await create(arn);
    const first = fake.subscriptionOf(guid);
    expect((await patch(guid, arn)).status).toBe(200);
    expect(fake.subscriptionOf(guid)).toBe(first);

    await aws().sns.send(new DeleteTopicCommand({ TopicArn: arn }));
    expect(await topic('lw-eks-al-feedbeef')).toBe(arn);
    expect(await subs(arn)).toEqual([]);
    expect(await delivered(arn)).toBe(false);

    expect((await patch(guid, arn)).status).toBe(200);
    const again = fake.subscriptionOf(guid);
    expect(again).not.toBe(first);
    expect(await subs(arn)).toEqual([again]);
    expect(await delivered(arn)).toBe(true);
  });

  it('PATCH to another topic moves the subscription; PATCH to a missing topic is refused', async () => {
    const a = await topic('lw-eks-al-a');
    const b = await topic('lw-eks-al-b');
    const guid = await create(a);
    expect((await patch(guid, b)).status).toBe(200);
    expect(await subs(a)).toEqual([]);
    expect(await subs(b)).toEqual([fake.subscriptionOf(guid)]);
    const gone = await patch(guid, `arn:aws:sns:${REGION}:${ACCOUNT}:gone`);
    expect(gone.status).toBe(400);
    expect(fake.integrations.get(guid)?.data.snsArn).toBe(b);
  });

  it('a topic in a member account gets the platform queue of that account', async () => {
    const arn = await topic('lw-eks-al-member', MEMBER);
    expect(arn).toContain(`:${MEMBER}:`);
    const guid = await create(arn);
    expect(fake.subscriptionOf(guid)).toContain(`:${MEMBER}:`);
    expect(await fake.queueUrl(REGION, MEMBER)).toContain(MEMBER);
    expect(await delivered(arn, MEMBER)).toBe(true);
    // Nothing reached the management account's queue.
    const mgmt = await aws().sqs.send(new ReceiveMessageCommand({ QueueUrl: await fake.queueUrl(REGION), WaitTimeSeconds: 0 }));
    expect(mgmt.Messages ?? []).toEqual([]);
  });
});
