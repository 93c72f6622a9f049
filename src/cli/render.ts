/**
 * All terminal output. Results go to stdout (with --json: exactly one JSON document), progress and logs
 * to stderr. Colour only on a TTY and without --no-color / NO_COLOR.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import type { EngineEvent, ResourceResult } from '../provision/engine.js';
import { kindLabel } from '../plan/format.js';

export interface Output {
  json: boolean;
  color: boolean;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  c: ChalkInstance;
}

export function makeOutput(opts: { json?: boolean; color?: boolean }, env: NodeJS.ProcessEnv = process.env): Output {
  const tty = !!(process.stderr.isTTY && (opts.json || process.stdout.isTTY));
  const color = opts.color !== false && !env.NO_COLOR && !env.LW_NOCOLOR && tty;
  return { json: !!opts.json, color, out: process.stdout, err: process.stderr, c: new Chalk({ level: color ? 1 : 0 }) };
}

/** A line for people: to stdout normally, to stderr under --json (stdout holds only the JSON). */
export function say(o: Output, line = ''): void {
  (o.json ? o.err : o.out).write(line + '\n');
}

export function warn(o: Output, line: string): void {
  o.err.write(o.c.yellow(`warning: ${line}`) + '\n');
}

export function errorLine(o: Output, line: string): void {
  o.err.write(o.c.red(`error: `) + line + '\n');
}

export interface JsonDocument {
  schemaVersion: 1;
  command: string;
  status: 'ok' | 'failed' | 'rolled-back' | 'interrupted';
  deploymentId?: string;
  accountId?: string;
  homeRegion?: string;
  resources?: { kind: string; id: string; arn?: string; region: string; action: string }[];
  integration?: { intgGuid: string; name: string };
  journal?: string;
  error?: { code: string; message: string };
  [extra: string]: unknown;
}

export function printJson(o: Output, doc: JsonDocument): void {
  const clean = JSON.parse(JSON.stringify(doc)) as JsonDocument; // drops undefined fields
  o.out.write(JSON.stringify(clean, null, 2) + '\n');
}

export function jsonResources(results: ResourceResult[]): JsonDocument['resources'] {
  return results.map((r) => ({ kind: r.kind, id: r.id, ...(r.arn ? { arn: r.arn } : {}), region: r.region, action: r.action }));
}

const stamp = () => new Date().toISOString().slice(11, 19);

/** Progress as plain timestamped lines on stderr (also used when stderr is not a TTY). */
export function progressPrinter(o: Output): (e: EngineEvent) => void {
  const names = new Map<string, string>();
  const line = (text: string) => o.err.write(`${o.c.dim(`[${stamp()}]`)} ${text}\n`);
  return (e) => {
    switch (e.type) {
      case 'phase':
        if (e.phase === 'rollback') line(o.c.yellow(`Rolling back: ${e.message ?? ''}`));
        else if (e.phase === 'teardown') line('Tearing down…');
        break;
      case 'start': {
        const label = `${kindLabel(e.kind)} ${e.name}${e.region !== 'global' ? ` (${e.region})` : ''}`;
        names.set(e.key, label);
        const verb = { create: e.kind === 'eks-audit-logging' ? 'enabling' : 'creating', change: 'changing', delete: e.kind === 'eks-audit-logging' ? 'restoring' : 'deleting', restore: 'restoring' }[e.op];
        line(`${verb} ${label}`);
        break;
      }
      case 'progress':
        line(o.c.dim(`  ${names.get(e.key) ?? e.key}: ${e.message}`));
        break;
      case 'done': {
        const label = names.get(e.key) ?? `${kindLabel(e.kind)} ${e.name}`;
        const took = e.ms >= 100 ? ` (${(e.ms / 1000).toFixed(1)} s)` : '';
        line(`${o.c.green('✓')} ${label} ${e.action}${took}`);
        break;
      }
      case 'failed':
        line(`${o.c.red('✗')} ${names.get(e.key) ?? `${kindLabel(e.kind)} ${e.name}`}: ${e.message}`);
        break;
    }
  };
}

export function summarizeResults(o: Output, results: ResourceResult[]): void {
  for (const r of results) {
    const mark = r.action === 'created' ? o.c.green('+') : r.action === 'deleted' ? o.c.red('-') : r.action === 'changed' || r.action === 'restored' ? o.c.yellow('~') : '=';
    say(o, `  ${mark} ${kindLabel(r.kind)} ${r.id}${r.region !== 'global' ? ` (${r.region})` : ''} ${o.c.dim(r.action)}`);
  }
}
