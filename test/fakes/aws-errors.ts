/**
 * AWS error answers in the exact wire shape of each protocol, so that the AWS SDK for JavaScript v3 parses
 * them as it parses real AWS: `err.name` is the error code, `err.message` the message and
 * `err.$metadata.httpStatusCode` the status.
 *
 * | protocol | services here | shape |
 * |---|---|---|
 * | `json` (awsJson1_0 / 1_1) | logs, firehose, kms, sqs, tagging, organizations | `{"__type": code, "message": ...}`, `x-amzn-errortype`; SQS (query-compatible) adds `x-amzn-query-error: <code>;<Sender/Receiver>` and a `com.amazonaws.sqs#` prefix |
 * | `rest-json` | eks | `{"message": ...}` plus extra members, `x-amzn-errortype: <code>` |
 * | `query` | iam, sts, sns | `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>` |
 * | `rest-xml` | s3 | `<Error><Code/><Message/>…<RequestId/><HostId/></Error>`; no body for HEAD (the SDK then names the error after the status: `NotFound`, `Forbidden`…) |
 *
 * `fields` adds members to the error: JSON keys, or XML elements next to `<Code>` (S3's `ArgumentName1`…).
 */
import { randomUUID } from 'node:crypto';

export type AwsProtocol = 'json' | 'rest-json' | 'query' | 'rest-xml';

/** What to answer. */
export interface AwsErrorSpec {
  status: number;
  code: string;
  message: string;
  /** Extra members of the error body (JSON keys or XML elements, in order). */
  fields?: Record<string, string>;
  /** Extra response headers (e.g. `retry-after`). */
  headers?: Record<string, string>;
  /** SQS only: the query-compatible code of `x-amzn-query-error` (default: `code`). */
  queryError?: string;
}

/** One HTTP answer. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** XML namespaces of the query services' error documents. */
const QUERY_XMLNS: Record<string, string> = {
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
  sns: 'http://sns.amazonaws.com/doc/2010-03-31/',
};

export const xmlEscape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

const xmlFields = (fields: Record<string, string> | undefined): string =>
  Object.entries(fields ?? {})
    .map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`)
    .join('');

/**
 * The answer AWS gives for `spec` on a request of `protocol` to `service`.
 *
 * @param ctx.method the request's method (S3 answers HEAD errors without a body)
 * @param ctx.requestContentType the request's Content-Type (JSON answers echo `application/x-amz-json-1.x`)
 */
export function awsErrorAnswer(
  protocol: AwsProtocol,
  spec: AwsErrorSpec,
  ctx: { service: string; method?: string; requestContentType?: string },
): HttpAnswer {
  const requestId = randomUUID();
  const { status, code, message } = spec;
  const extra = spec.headers ?? {};
  switch (protocol) {
    case 'json': {
      const sqs = ctx.service === 'sqs';
      const type = sqs && !code.includes('#') ? `com.amazonaws.sqs#${code}` : code;
      const headers: Record<string, string> = {
        'content-type': ctx.requestContentType?.startsWith('application/x-amz-json')
          ? ctx.requestContentType
          : 'application/x-amz-json-1.1',
        'x-amzn-requestid': requestId,
        'x-amzn-errortype': code,
      };
      if (sqs) headers['x-amzn-query-error'] = `${spec.queryError ?? code};${status >= 500 ? 'Receiver' : 'Sender'}`;
      return { status, headers: { ...headers, ...extra }, body: JSON.stringify({ __type: type, message, ...spec.fields }) };
    }
    case 'rest-json':
      return {
        status,
        headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': code, ...extra },
        body: JSON.stringify({ message, ...spec.fields }),
      };
    case 'query': {
      const ns = QUERY_XMLNS[ctx.service];
      return {
        status,
        headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, ...extra },
        body:
          `<ErrorResponse${ns ? ` xmlns="${ns}"` : ''}><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
          `<Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message>${xmlFields(spec.fields)}</Error>` +
          `<RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    }
    case 'rest-xml': {
      const hostId = Buffer.from(randomUUID()).toString('base64');
      return {
        status,
        headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId, 'x-amz-id-2': hostId, ...extra },
        body:
          ctx.method === 'HEAD'
            ? ''
            : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(code)}</Code>` +
              `<Message>${xmlEscape(message)}</Message>${xmlFields(spec.fields)}<RequestId>${requestId}</RequestId>` +
              `<HostId>${hostId}</HostId></Error>`,
      };
    }
  }
}
