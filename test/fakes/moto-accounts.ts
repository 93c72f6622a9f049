/**
 * Acting as a given AWS account against moto, for fakes and fixtures.
 *
 * moto picks the account of a request (reference/moto.md §3.1, `moto/core/responses.py`
 * `get_current_account`): `MOTO_ACCOUNT_ID` in the server's environment first, then the
 * `x-moto-account-id` request header, then the account that owns the access key id of the SigV4
 * `Authorization` header (keys from `AssumeRole` or `CreateAccessKey`), else `123456789012`.
 */
import type { BuildMiddleware, MiddlewareStack } from '@smithy/types';

/** moto's default account (`DEFAULT_ACCOUNT_ID`), also what dummy credentials act as. */
export const DEFAULT_ACCOUNT = '123456789012';

/** Dummy credentials moto accepts. */
export const DUMMY_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** The structural bit of an AWS SDK v3 client the helpers here need. */
export interface ClientWithStack {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  middlewareStack: MiddlewareStack<any, any>;
}

/** Add a header to every request of an SDK v3 client (build step). Returns the same client. */
export function withHeader<T extends ClientWithStack>(client: T, name: string, value: string): T {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const mw: BuildMiddleware<any, any> = (next) => async (args) => {
    const request = args.request as { headers?: Record<string, string> } | undefined;
    if (request && typeof request === 'object' && request.headers) request.headers[name] = value;
    return next(args);
  };
  client.middlewareStack.add(mw, { step: 'build', name: `header:${name}`, override: true });
  return client;
}

/**
 * Make every request of an SDK v3 client act in `account` at moto (`x-moto-account-id`), whatever its
 * credentials. Returns the same client. Not for the product: it only means something to moto.
 */
export function asAccount<T extends ClientWithStack>(client: T, account: string): T {
  return withHeader(client, 'x-moto-account-id', account);
}

/** Parts of an ARN: `arn:partition:service:region:account:resource`. */
export function parseArn(arn: string): { partition: string; service: string; region: string; account: string; resource: string } | undefined {
  const m = /^arn:([^:]+):([^:]+):([^:]*):([^:]*):(.+)$/.exec(arn);
  if (!m) return undefined;
  return { partition: m[1] ?? '', service: m[2] ?? '', region: m[3] ?? '', account: m[4] ?? '', resource: m[5] ?? '' };
}
