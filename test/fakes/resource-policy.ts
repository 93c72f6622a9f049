/**
 * A small evaluator of resource-based policies (topic, queue, key, Lambda function policies), enough to
 * decide what AWS decides when a *service* (e.g. `s3.amazonaws.com`) acts on a resource: an explicit
 * `Deny` wins, otherwise some `Allow` must match principal, action, resource and every condition.
 *
 * Supported: `Principal` `"*"`, `{"AWS": "*"}` (matches every principal, services included, as the classic
 * S3-to-SNS examples rely on) and `{"Service": …}`; `NotPrincipal`, `Action`/`NotAction` (case-insensitive
 * wildcards), `Resource`/`NotResource` (wildcards); condition operators `String*`, `Arn*`, `Numeric*`,
 * `Bool`, `Null`, each with `…IfExists` and the `ForAnyValue:`/`ForAllValues:` prefixes, keys
 * case-insensitive. A key missing from the request context fails its condition (unless `…IfExists` or
 * `Null`), as in IAM; an unknown operator fails too. Not a full IAM engine: no policy variables, no dates.
 */

/** What is being asked. */
export interface PolicyRequest {
  /** Service principal making the call, e.g. `s3.amazonaws.com`. */
  service?: string;
  /** AWS account principal making the call (matches `{"AWS": "<account>"}` / `arn:aws:iam::<account>:root`). */
  account?: string;
  /** e.g. `sns:Publish`. */
  action: string;
  /** ARN of the resource. */
  resource: string;
  /** Condition keys of the request (case-insensitive), e.g. `{ 'aws:SourceArn': 'arn:aws:s3:::b' }`. */
  context: Record<string, string>;
}

type Json = Record<string, unknown>;

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** `*` and `?` wildcards, whole string. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = new RegExp(
    `^${pattern
      .split('')
      .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
      .join('')}$`,
    ignoreCase ? 'is' : 's',
  );
  return re.test(value);
}

function principalMatches(principal: unknown, req: PolicyRequest): boolean {
  if (principal === '*') return true;
  if (typeof principal !== 'object' || principal === null) return false;
  const p = principal as Json;
  const aws = list(p.AWS);
  if (aws.includes('*')) return true;
  if (req.account && aws.some((a) => a === req.account || a === `arn:aws:iam::${req.account}:root`)) return true;
  if (req.service && list(p.Service).includes(req.service)) return true;
  return false;
}

function conditionHolds(op: string, key: string, expected: string[], ctx: Map<string, string>): boolean {
  let operator = op.replace(/^(ForAnyValue|ForAllValues):/i, '');
  const ifExists = /IfExists$/i.test(operator);
  if (ifExists) operator = operator.replace(/IfExists$/i, '');
  const actual = ctx.get(key.toLowerCase());
  if (operator.toLowerCase() === 'null') {
    const wantsAbsent = expected.some((e) => e.toLowerCase() === 'true');
    return wantsAbsent ? actual === undefined : actual !== undefined;
  }
  if (actual === undefined) return ifExists;
  const any = (f: (e: string) => boolean): boolean => expected.some(f);
  switch (operator.toLowerCase()) {
    case 'stringequals':
      return any((e) => e === actual);
    case 'stringnotequals':
      return !any((e) => e === actual);
    case 'stringequalsignorecase':
      return any((e) => e.toLowerCase() === actual.toLowerCase());
    case 'stringnotequalsignorecase':
      return !any((e) => e.toLowerCase() === actual.toLowerCase());
    case 'stringlike':
      return any((e) => globMatch(e, actual));
    case 'stringnotlike':
      return !any((e) => globMatch(e, actual));
    // ArnEquals and ArnLike behave the same (IAM reference: "ARN condition operators").
    case 'arnequals':
    case 'arnlike':
      return any((e) => globMatch(e, actual));
    case 'arnnotequals':
    case 'arnnotlike':
      return !any((e) => globMatch(e, actual));
    case 'bool':
      return any((e) => e.toLowerCase() === actual.toLowerCase());
    case 'numericequals':
      return any((e) => Number(actual) === Number(e));
    case 'numericnotequals':
      return !any((e) => Number(actual) === Number(e));
    case 'numericlessthan':
      return any((e) => Number(actual) < Number(e));
    case 'numericlessthanequals':
      return any((e) => Number(actual) <= Number(e));
    case 'numericgreaterthan':
      return any((e) => Number(actual) > Number(e));
    case 'numericgreaterthanequals':
      return any((e) => Number(actual) >= Number(e));
    default:
      return false;
  }
}

function statementMatches(s: Json, req: PolicyRequest, ctx: Map<string, string>): boolean {
  if ('NotPrincipal' in s) {
    if (principalMatches(s.NotPrincipal, req)) return false;
  } else if (!principalMatches(s.Principal, req)) {
    return false;
  }
  if ('NotAction' in s) {
    if (list(s.NotAction).some((a) => globMatch(a, req.action, true))) return false;
  } else if (!list(s.Action).some((a) => globMatch(a, req.action, true))) {
    return false;
  }
  if ('NotResource' in s) {
    if (list(s.NotResource).some((r) => globMatch(r, req.resource))) return false;
  } else if ('Resource' in s && !list(s.Resource).some((r) => globMatch(r, req.resource))) {
    return false;
  }
  const cond = (s.Condition ?? {}) as Record<string, Record<string, unknown>>;
  for (const [op, keys] of Object.entries(cond)) {
    for (const [key, values] of Object.entries(keys ?? {})) {
      if (!conditionHolds(op, key, list(values), ctx)) return false;
    }
  }
  return true;
}

/**
 * Whether `policy` (a JSON string or object; `undefined`/empty means no policy) allows `req`.
 * An unparsable policy allows nothing.
 */
export function policyAllows(policy: string | object | undefined, req: PolicyRequest): boolean {
  if (policy === undefined || policy === '') return false;
  let doc: Json;
  try {
    doc = (typeof policy === 'string' ? JSON.parse(policy) : policy) as Json;
  } catch {
    return false;
  }
  const statements = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]).filter(
    (s): s is Json => typeof s === 'object' && s !== null,
  );
  const ctx = new Map(Object.entries(req.context).map(([k, v]) => [k.toLowerCase(), v]));
  let allowed = false;
  for (const s of statements) {
    if (!statementMatches(s, req, ctx)) continue;
    if (s.Effect === 'Deny') return false;
    if (s.Effect === 'Allow') allowed = true;
  }
  return allowed;
}
