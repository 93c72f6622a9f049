/**
 * What real S3 checks on `PutBucketNotificationConfiguration` and moto does not (reference/moto.md §3.5),
 * for the fault proxy to answer as S3 would. Two checks, in S3's order:
 *
 * 1. **Overlap.** Two rules (topic, queue and Lambda rules together) that share an event type (equal, or one
 *    a `:*` wildcard of the other's family, e.g. `s3:ObjectCreated:*` and `s3:ObjectCreated:Put`) and whose
 *    key filters overlap (one prefix is a prefix of the other, and one suffix a suffix of the other; a
 *    missing filter is the empty prefix/suffix, so an unfiltered rule overlaps every rule of its family).
 *    Answer: 400 `InvalidArgument`, with S3's two wordings:
 *    - neither rule has a filter: "Configurations overlap. Configurations on the same bucket cannot share a
 *      common event type." with `<ArgumentName>Event</ArgumentName><ArgumentValue>e1, e2</ArgumentValue>`
 *      (raw S3 answer quoted in minio/minio#2472; also awslabs/aws-lambda-redshift-loader#22,
 *      awslabs/cdk-serverless-clamscan#530);
 *    - otherwise: "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the
 *      prefixes are overlapping for the same event type." (aws-solutions/aws-waf-security-automations#49: an
 *      existing unfiltered ObjectCreated rule plus a new filtered one; hashicorp/terraform-provider-aws#1582;
 *      the S3 user guide, "Configuring event notifications using object key name filtering").
 *    Two event types in one rule that overlap get the first wording too.
 * 2. **Destinations.** S3 validates every destination of the configuration on each put (by sending it a
 *    test event): it must exist and its resource policy must let `s3.amazonaws.com` deliver from this bucket
 *    (`aws:SourceArn` = `arn:aws:s3:::<bucket>`, `aws:SourceAccount` = the bucket owner); an encrypted topic
 *    or queue needs a customer managed KMS key, enabled, whose key policy lets S3 use it (`kms:GenerateDataKey`
 *    and `kms:Decrypt`; S3 user guide "Granting permissions to publish event notification messages to a
 *    destination"; aws/aws-cdk#29511, #14370). Answer: 400 `InvalidArgument` "Unable to validate the
 *    following destination configurations" with one numbered `ArgumentName<i>` (the destination ARN; for
 *    Lambda `<arn>, null`) and `ArgumentValue<i>` (the reason) per failing destination, as in the raw S3
 *    answer quoted in awslabs/aws-lambda-redshift-loader#219. Reasons, as LocalStack's AWS-validated
 *    notifier words them (`localstack/services/s3/notifications.py`): "The destination topic does not exist",
 *    "The destination queue does not exist", "The destination Lambda does not exist", "Permissions on the
 *    destination topic do not allow S3 to publish notifications from this bucket", "Permissions on the
 *    destination queue do not allow S3 to publish notifications from this bucket", "Not authorized to invoke
 *    function [<arn>]". A KMS key S3 cannot use gets the "Permissions on the destination …" reason (an
 *    assumption: S3's test event fails the same way; no public raw answer found).
 */
import { policyAllows } from './resource-policy.js';

export type DestinationKind = 'topic' | 'queue' | 'lambda';

/** One rule of a notification configuration. */
export interface NotificationRule {
  kind: DestinationKind;
  id?: string;
  arn: string;
  events: string[];
  /** Undefined when the rule has no such filter rule. */
  prefix?: string;
  suffix?: string;
}

export interface ParsedNotificationConfiguration {
  rules: NotificationRule[];
  eventBridge: boolean;
}

/** An S3 error answer (always 400 `InvalidArgument` here). */
export interface S3Rejection {
  status: 400;
  code: 'InvalidArgument';
  message: string;
  fields?: Record<string, string>;
}

export const OVERLAP_MESSAGE = 'Configurations overlap. Configurations on the same bucket cannot share a common event type.';
export const AMBIGUOUS_MESSAGE =
  'Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the prefixes are overlapping for the same event type.';
export const UNABLE_TO_VALIDATE_MESSAGE = 'Unable to validate the following destination configurations';

const unescape = (s: string): string =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&amp;/g, '&');

const elements = (xml: string, tag: string): string[] =>
  [...xml.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1] ?? '');
const element = (xml: string, tag: string): string | undefined => {
  const v = elements(xml, tag)[0];
  return v === undefined ? undefined : unescape(v.trim());
};

const KINDS: Array<[string, string, DestinationKind]> = [
  ['TopicConfiguration', 'Topic', 'topic'],
  ['QueueConfiguration', 'Queue', 'queue'],
  ['CloudFunctionConfiguration', 'CloudFunction', 'lambda'],
];

/** Reads the request body of `PutBucketNotificationConfiguration` (the SDK's XML). */
export function parseNotificationXml(xml: string): ParsedNotificationConfiguration {
  const rules: NotificationRule[] = [];
  for (const [wrapper, arnTag, kind] of KINDS) {
    for (const body of elements(xml, wrapper)) {
      const rule: NotificationRule = {
        kind,
        arn: element(body, arnTag) ?? '',
        events: elements(body, 'Event').map((e) => unescape(e.trim())),
      };
      const id = element(body, 'Id');
      if (id !== undefined) rule.id = id;
      for (const fr of elements(body, 'FilterRule')) {
        const name = (element(fr, 'Name') ?? '').toLowerCase();
        const value = element(fr, 'Value') ?? '';
        if (name === 'prefix') rule.prefix = value;
        if (name === 'suffix') rule.suffix = value;
      }
      rules.push(rule);
    }
  }
  return { rules, eventBridge: /<EventBridgeConfiguration[\s/>]/.test(xml) };
}

/** `pattern` covers `event`: equal, or `s3:Family:*` and `s3:Family:Anything`. */
export function eventIncludes(pattern: string, event: string): boolean {
  return pattern === event || (pattern.endsWith(':*') && event.startsWith(pattern.slice(0, -1)));
}

const eventsOverlap = (a: string, b: string): boolean => eventIncludes(a, b) || eventIncludes(b, a);
const filtered = (r: NotificationRule): boolean => r.prefix !== undefined || r.suffix !== undefined;

/** The overlap check (1. above): the rejection S3 gives, or undefined when the rules do not overlap. */
export function checkOverlap(rules: NotificationRule[]): S3Rejection | undefined {
  const overlap = (a: string, b: string): S3Rejection => ({
    status: 400,
    code: 'InvalidArgument',
    message: OVERLAP_MESSAGE,
    fields: { ArgumentName: 'Event', ArgumentValue: `${a}, ${b}` },
  });
  for (const r of rules) {
    for (let i = 0; i < r.events.length; i++) {
      for (let j = i + 1; j < r.events.length; j++) {
        const a = r.events[i] ?? '';
        const b = r.events[j] ?? '';
        if (eventsOverlap(a, b)) return overlap(a, b);
      }
    }
  }
  for (let i = 0; i < rules.length; i++) {
    for (let j = i + 1; j < rules.length; j++) {
      const a = rules[i];
      const b = rules[j];
      if (!a || !b) continue;
      const shared = a.events.flatMap((ea) => b.events.filter((eb) => eventsOverlap(ea, eb)).map((eb) => [ea, eb] as const))[0];
      if (!shared) continue;
      const pa = a.prefix ?? '';
      const pb = b.prefix ?? '';
      const sa = a.suffix ?? '';
      const sb = b.suffix ?? '';
      const prefixes = pa.startsWith(pb) || pb.startsWith(pa);
      const suffixes = sa.endsWith(sb) || sb.endsWith(sa);
      if (!prefixes || !suffixes) continue;
      if (!filtered(a) && !filtered(b)) return overlap(shared[0], shared[1]);
      return { status: 400, code: 'InvalidArgument', message: AMBIGUOUS_MESSAGE };
    }
  }
  return undefined;
}

/** What the destination check needs to know about the world (moto's state, see fault-proxy). */
export interface DestinationLookups {
  /** undefined when the topic does not exist. */
  topic(arn: string): Promise<{ policy?: string; kmsMasterKeyId?: string } | undefined>;
  queue(arn: string): Promise<{ policy?: string; kmsMasterKeyId?: string } | undefined>;
  lambda(arn: string): Promise<{ policy?: string } | undefined>;
  /** A KMS key by id, ARN or alias, in that region and account; undefined when not found. */
  key(
    keyId: string,
    region: string,
    account: string,
  ): Promise<{ arn: string; enabled: boolean; awsManaged: boolean; policy?: string } | undefined>;
}

const PERMISSION_REASON = {
  topic: 'Permissions on the destination topic do not allow S3 to publish notifications from this bucket',
  queue: 'Permissions on the destination queue do not allow S3 to publish notifications from this bucket',
} as const;
const MISSING_REASON = {
  topic: 'The destination topic does not exist',
  queue: 'The destination queue does not exist',
  lambda: 'The destination Lambda does not exist',
} as const;
const ACTION = { topic: 'sns:Publish', queue: 'sqs:SendMessage', lambda: 'lambda:InvokeFunction' } as const;

/** Whether S3 can use the KMS key that encrypts a topic or queue. */
async function keyUsable(keyId: string, destArn: string, context: Record<string, string>, lookups: DestinationLookups): Promise<boolean> {
  const [, , , region = '', account = ''] = destArn.split(':');
  const fromArn = /^arn:[^:]+:kms:([^:]+):(\d{12}):/.exec(keyId);
  const key = await lookups.key(keyId, fromArn?.[1] ?? region, fromArn?.[2] ?? account);
  if (!key || !key.enabled || key.awsManaged) return false;
  const ask = (action: string) => policyAllows(key.policy, { service: 's3.amazonaws.com', action, resource: key.arn, context });
  return ask('kms:GenerateDataKey') && ask('kms:Decrypt');
}

/**
 * The destination check (2. above) for a bucket owned by `bucketOwner`: the rejection S3 gives, or
 * undefined when every destination accepts S3's test event.
 */
export async function checkDestinations(
  rules: NotificationRule[],
  bucket: string,
  bucketOwner: string,
  lookups: DestinationLookups,
): Promise<S3Rejection | undefined> {
  const context = { 'aws:SourceArn': `arn:aws:s3:::${bucket}`, 'aws:SourceAccount': bucketOwner };
  const seen = new Set<string>();
  const unique = rules.filter((r) => !seen.has(`${r.kind} ${r.arn}`) && seen.add(`${r.kind} ${r.arn}`));
  const reasons = await Promise.all(
    unique.map(async (r): Promise<[string, string] | undefined> => {
      if (r.kind === 'lambda') {
        const fn = await lookups.lambda(r.arn);
        if (!fn) return [r.arn, MISSING_REASON.lambda];
        const ok = policyAllows(fn.policy, { service: 's3.amazonaws.com', action: ACTION.lambda, resource: r.arn, context });
        return ok ? undefined : [`${r.arn}, null`, `Not authorized to invoke function [${r.arn}]`];
      }
      const dest = r.kind === 'topic' ? await lookups.topic(r.arn) : await lookups.queue(r.arn);
      if (!dest) return [r.arn, MISSING_REASON[r.kind]];
      const ok = policyAllows(dest.policy, { service: 's3.amazonaws.com', action: ACTION[r.kind], resource: r.arn, context });
      if (!ok) return [r.arn, PERMISSION_REASON[r.kind]];
      if (dest.kmsMasterKeyId && !(await keyUsable(dest.kmsMasterKeyId, r.arn, context, lookups))) {
        return [r.arn, PERMISSION_REASON[r.kind]];
      }
      return undefined;
    }),
  );
  const failed = reasons.filter((x): x is [string, string] => x !== undefined);
  if (failed.length === 0) return undefined;
  const fields: Record<string, string> = {};
  failed.forEach(([name, value], i) => {
    fields[`ArgumentName${i + 1}`] = name;
    fields[`ArgumentValue${i + 1}`] = value;
  });
  return { status: 400, code: 'InvalidArgument', message: UNABLE_TO_VALIDATE_MESSAGE, fields };
}
