/**
 * The latency model for the setup benchmark (bench/README.md): an HTTP proxy between the fault proxy and
 * moto that gives moto AWS's slow parts back, scaled down. moto makes everything usable at once; real AWS
 * answers the create call at once too and then keeps the resource unusable for a while. So the model does
 * not delay calls (a delayed call would also hold one of the engine's concurrency slots, which a real wait
 * never does); it answers the *follow-up* calls the way AWS does while the wait lasts:
 *
 * - EKS logging update (`eksUpdateMs`, AWS ~40 s): after UpdateClusterConfig, DescribeCluster of that
 *   cluster shows audit logging still off, and a second UpdateClusterConfig gets ResourceInUseException.
 * - Firehose CREATING → ACTIVE (`firehoseActiveMs`, AWS 30–60 s): after CreateDeliveryStream,
 *   DescribeDeliveryStream says CREATING.
 * - IAM propagation (`iamPropagationMs`, AWS 5–15 s): after CreateRole, a call that hands that role to a
 *   service fails as AWS fails it: CreateDeliveryStream ("Firehose is unable to assume role"),
 *   PutSubscriptionFilter ("Could not deliver test message"), KMS CreateKey naming it in the key policy
 *   (MalformedPolicyDocumentException).
 *
 * Requests marked as test fixtures (`x-test-fixture: 1`) pass untouched.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { classifyRequest } from '../test/fakes/fault-proxy.js';

export interface LatencyModel {
  eksUpdateMs: number;
  firehoseActiveMs: number;
  iamPropagationMs: number;
}

export interface LatencyProxy {
  endpoint: string;
  /** Replace the model (e.g. all zero for the no-wait baseline) and forget every running wait. */
  configure(model: LatencyModel): void;
  /** How many answers the model changed or made up, by kind. */
  stats(): Record<string, number>;
  stop(): Promise<void>;
}

const JSON_CT = 'application/x-amz-json-1.1';

/** The access key id of a SigV4 Authorization header (one per account in an organization run). */
const accessKeyOf = (auth: string | undefined) => /Credential=([^/]+)\//.exec(auth ?? '')?.[1] ?? '';

export async function startLatencyProxy(target: string, initial: LatencyModel): Promise<LatencyProxy> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let model = initial;
  /** cluster name@region -> when its logging update ends. */
  let eksUntil = new Map<string, number>();
  /** stream name@region -> when it becomes ACTIVE. */
  let streamUntil = new Map<string, number>();
  /** role name -> when services can assume it. */
  let roleUntil = new Map<string, number>();
  let counts: Record<string, number> = {};
  const count = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);
  const sockets = new Set<Socket>();

  const reply = (res: http.ServerResponse, status: number, headers: Record<string, string>, body: string) => {
    res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  };
  const jsonError = (res: http.ServerResponse, code: string, message: string) =>
    reply(res, 400, { 'content-type': JSON_CT, 'x-amzn-errortype': code }, JSON.stringify({ __type: code, message }));

  /** Forwards to moto; `rewrite` (if given) may change a 200 JSON body. */
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, rewrite?: (doc: Record<string, unknown>) => boolean) =>
    new Promise<void>((resolve) => {
      const headers: string[] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        if ((req.rawHeaders[i] ?? '').toLowerCase() === 'expect') continue;
        headers.push(req.rawHeaders[i] ?? '', req.rawHeaders[i + 1] ?? '');
      }
      const out = http.request(
        { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
        (up) => {
          if (!rewrite || up.statusCode !== 200) {
            res.writeHead(up.statusCode ?? 502, up.statusMessage, up.rawHeaders);
            up.pipe(res);
            up.once('end', resolve);
            return;
          }
          const chunks: Buffer[] = [];
          up.on('data', (c: Buffer) => chunks.push(c));
          up.once('end', () => {
            let text = Buffer.concat(chunks).toString('utf8');
            try {
              const doc = JSON.parse(text) as Record<string, unknown>;
              if (rewrite(doc)) text = JSON.stringify(doc);
            } catch {
              // not JSON: pass it on as it is
            }
            const hdrs: Record<string, string> = {};
            for (const [k, v] of Object.entries(up.headers)) if (typeof v === 'string' && k !== 'content-length' && k !== 'transfer-encoding') hdrs[k] = v;
            reply(res, 200, hdrs, text);
            resolve();
          });
        },
      );
      out.once('error', (err) => {
        reply(res, 502, { 'content-type': 'text/plain' }, `latency-model: ${err.message}`);
        resolve();
      });
      out.end(body);
    });

  const waiting = (until: Map<string, number>, key: string) => (until.get(key) ?? 0) > Date.now();
  /** A role created less than the propagation time ago that this request hands to a service. */
  const unpropagatedRole = (text: string) => [...roleUntil].find(([name, t]) => t > Date.now() && text.includes(`role/${name}`))?.[0];

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const fixture = req.headers['x-test-fixture'] === '1';
    const url = req.url ?? '/';
    const c = classifyRequest(req.method ?? 'GET', url, req.headers, body);
    if (fixture || c.service === 'moto-api') return forward(req, res, body);
    const text = body.toString('utf8');
    const now = Date.now();
    const op = `${c.service}:${c.action}`;

    if (op === 'eks:UpdateClusterConfig' || op === 'eks:DescribeCluster') {
      const cluster = decodeURIComponent(new URL(url, 'http://x').pathname.split('/')[2] ?? '');
      // Clusters of different accounts may share a name (an organization run): the access key tells them apart.
      const key = `${cluster}@${c.region}@${accessKeyOf(req.headers.authorization)}`;
      if (op === 'eks:UpdateClusterConfig') {
        if (waiting(eksUntil, key)) {
          count('eks-update-in-progress');
          return reply(res, 409, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceInUseException' }, JSON.stringify({ message: 'Cannot process the request: an update is already in progress.' }));
        }
        if (model.eksUpdateMs > 0) eksUntil.set(key, now + model.eksUpdateMs);
        return forward(req, res, body);
      }
      if (!waiting(eksUntil, key)) return forward(req, res, body);
      return forward(req, res, body, (doc) => {
        const logging = ((doc.cluster as Record<string, unknown> | undefined)?.logging as { clusterLogging?: { types?: string[]; enabled?: boolean }[] } | undefined)?.clusterLogging;
        if (!logging) return false;
        count('eks-update-pending');
        for (const entry of logging) if (entry.types?.includes('audit')) entry.enabled = false;
        return true;
      });
    }
    if (op === 'iam:CreateRole') {
      const name = new URLSearchParams(text).get('RoleName');
      if (name && model.iamPropagationMs > 0) roleUntil.set(name, now + model.iamPropagationMs);
      return forward(req, res, body);
    }
    if (op === 'firehose:CreateDeliveryStream') {
      const role = unpropagatedRole(text);
      if (role) {
        count('iam-not-propagated');
        return jsonError(res, 'InvalidArgumentException', `Firehose is unable to assume role arn:aws:iam::123456789012:role/${role}. Please check the role provided.`);
      }
      const name = (JSON.parse(text) as { DeliveryStreamName?: string }).DeliveryStreamName ?? '';
      if (model.firehoseActiveMs > 0) streamUntil.set(`${name}@${c.region}`, now + model.firehoseActiveMs);
      return forward(req, res, body);
    }
    if (op === 'firehose:DescribeDeliveryStream') {
      const name = (JSON.parse(text) as { DeliveryStreamName?: string }).DeliveryStreamName ?? '';
      if (!waiting(streamUntil, `${name}@${c.region}`)) return forward(req, res, body);
      return forward(req, res, body, (doc) => {
        const d = doc.DeliveryStreamDescription as Record<string, unknown> | undefined;
        if (!d) return false;
        count('firehose-creating');
        d.DeliveryStreamStatus = 'CREATING';
        return true;
      });
    }
    if (op === 'logs:PutSubscriptionFilter') {
      const dest = (JSON.parse(text) as { destinationArn?: string }).destinationArn ?? '';
      const stream = dest.split('/').pop() ?? '';
      const streamRegion = dest.split(':')[3] ?? '';
      if (unpropagatedRole(text) || waiting(streamUntil, `${stream}@${streamRegion}`)) {
        count('filter-test-message-failed');
        return jsonError(res, 'InvalidParameterException', 'Could not deliver test message to specified Firehose stream. Check if the given Firehose stream is in ACTIVE state.');
      }
      return forward(req, res, body);
    }
    if (op === 'kms:CreateKey' && unpropagatedRole(text)) {
      count('iam-not-propagated');
      return jsonError(res, 'MalformedPolicyDocumentException', 'Policy contains a statement with one or more invalid principals.');
    }
    return forward(req, res, body);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => reply(res, 502, { 'content-type': 'text/plain' }, `latency-model: ${String(err)}`));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('latency-model: no address');
  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    configure(m) {
      model = m;
      eksUntil = new Map();
      streamUntil = new Map();
      roleUntil = new Map();
      counts = {};
    },
    stats: () => ({ ...counts }),
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
      agent.destroy();
    },
  };
}
