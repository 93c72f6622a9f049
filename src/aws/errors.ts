/** Helpers to read AWS SDK v3 errors by name, code and message. */

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
  const n = errName(err);
  return names.includes(n);
}

export function messageMatches(err: unknown, re: RegExp): boolean {
  return re.test((err as AwsErrorLike | undefined)?.message ?? '');
}

/** "It is not there": the usual not-found names of every service we call, or a bare 404. */
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
      'NotFoundException',
      'NoSuchKey',
      'NoSuchTagSet',
      'NoSuchBucketPolicy',
      'NoSuchLifecycleConfiguration',
      'ServerSideEncryptionConfigurationNotFoundError',
      'NoSuchPublicAccessBlockConfiguration',
      'OwnershipControlsNotFoundError',
    ) || httpStatus(err) === 404
  );
}

export function isAccessDenied(err: unknown): boolean {
  return (
    isAwsError(err, 'AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError', 'Forbidden') ||
    httpStatus(err) === 403
  );
}

/** One line naming the AWS error, for messages. */
export function describeAwsError(err: unknown): string {
  const n = errName(err);
  const msg = (err as AwsErrorLike | undefined)?.message ?? String(err);
  return n && !msg.startsWith(n) ? `${n}: ${msg}` : msg;
}
