/** Reading AWS SDK v3 errors by name, code, status and message, and the classes of answers the tool acts on. */
import { AppError } from '../errors.js';

export interface AwsErrorLike {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

export function errName(err: unknown): string {
  const e = err as AwsErrorLike | undefined;
  return e?.name ?? e?.Code ?? '';
}

export function httpStatus(err: unknown): number | undefined {
  return (err as AwsErrorLike | undefined)?.$metadata?.httpStatusCode;
}

export function isAwsError(err: unknown, ...names: string[]): boolean {
  return names.includes(errName(err));
}

export function messageMatches(err: unknown, re: RegExp): boolean {
  return re.test((err as AwsErrorLike | undefined)?.message ?? '');
}

/** "It is not there": the not-found names of every service we call, or a bare 404. */
export function isNotFound(err: unknown): boolean {
  return (
    isAwsError(
      err,
      'ResourceNotFoundException',
      'NoSuchEntity',
      'NoSuchEntityException',
      'NotFoundException',
      'NotFound',
      'NoSuchBucket',
      'NoSuchKey',
      'NoSuchTagSet',
      'NoSuchTagSetError',
      'NoSuchBucketPolicy',
      'NoSuchLifecycleConfiguration',
      'ServerSideEncryptionConfigurationNotFoundError',
      'NoSuchPublicAccessBlockConfiguration',
      'OwnershipControlsNotFoundError',
      'ParameterNotFound',
      'AWS.SimpleQueueService.NonExistentQueue',
      'QueueDoesNotExist',
    ) || httpStatus(err) === 404
  );
}

/**
 * The call's answer, or undefined where AWS answers that the resource does not exist (`isNotFound`).
 * @throws every other error of the call, as is.
 */
export async function unlessNotFound<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function isAccessDenied(err: unknown): boolean {
  return (
    isAwsError(err, 'AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError', 'Forbidden') ||
    httpStatus(err) === 403
  );
}

/**
 * Answers AWS gives while something made moments before is not usable yet by another service: a new IAM
 * role or policy (IAM propagates in about 5-15 s), a new KMS key, a topic whose policy was just set. One
 * table, code plus wording, so every call that uses something just made retries the whole class
 * (DESIGN §3 "Retries"; issue 11 item 1). Sources:
 * - KMS CreateKey with a principal IAM has not propagated: MalformedPolicyDocumentException
 *   (terraform-provider-aws internal/service/kms/key.go, waitIAMPropagation); EnableKeyRotation right after
 *   CreateKey: NotFoundException / DisabledException (same file).
 * - Firehose CreateDeliveryStream / UpdateDestination / StartDeliveryStreamEncryption with a new role:
 *   InvalidArgumentException "Firehose is unable to assume role", "is not authorized to", "Access was denied"
 *   (internal/service/firehose/delivery_stream.go, retryDeliveryStreamOp), and "The security token included in
 *   the request is invalid. Ensure that the provided IAM role associated with firehose is not deleted." (seen
 *   in the field for a role made in the same run); with a new key, "... unable to use the specified KMS key".
 * - CloudWatch Logs PutSubscriptionFilter: InvalidParameterException "Could not deliver test message to
 *   specified Firehose stream" (also while the stream is not ACTIVE), OperationAbortedException "Please try
 *   again" (internal/service/logs/subscription_filter.go).
 * - S3 PutBucketNotificationConfiguration right after the topic policy: InvalidArgument "Unable to validate the
 *   following destination configurations" (aws/aws-cdk#28357); S3 OperationAborted "A conflicting conditional
 *   operation is currently in progress".
 * - SNS CreateTopic/SetTopicAttributes with a new key: InvalidParameter ... KmsMasterKeyId.
 */
const NOT_YET_USABLE: { codes: string[]; message: RegExp }[] = [
  { codes: ['MalformedPolicyDocumentException'], message: /./ },
  { codes: ['NotFoundException', 'DisabledException'], message: /key/i },
  {
    codes: ['InvalidArgumentException'],
    message:
      /unable to assume role|is not authorized to|not authorized to perform|access was denied|security token included in the request is invalid|role associated with firehose|role .*(does not exist|not found)|unable to use the specified kms key|kms key .*(not found|disabled)/i,
  },
  { codes: ['InvalidParameterException'], message: /could not deliver test message|unable to assume|not authorized/i },
  { codes: ['OperationAbortedException'], message: /try again/i },
  { codes: ['OperationAborted'], message: /./ },
  { codes: ['InvalidArgument'], message: /unable to validate the following destination configurations/i },
  { codes: ['InvalidParameter', 'InvalidParameterException'], message: /kmsmasterkeyid|kms key/i },
];

/** Whether an answer means "what you just made is not usable yet": retry it with short steps and a deadline. */
export function notYetUsable(err: unknown): boolean {
  const name = errName(err);
  return NOT_YET_USABLE.some((c) => c.codes.includes(name) && messageMatches(err, c.message));
}

/** One line naming the AWS error, for messages. */
export function describeAwsError(err: unknown): string {
  const n = errName(err);
  const msg = (err as AwsErrorLike | undefined)?.message ?? String(err);
  return n && !msg.startsWith(n) ? `${n}: ${msg}` : msg;
}

/** One line for any error: the tool's own messages as they are, AWS errors with their code. */
export function explain(err: unknown): string {
  return err instanceof AppError ? err.message : describeAwsError(err);
}
