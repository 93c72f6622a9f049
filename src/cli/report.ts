/**
 * The one place a command's result becomes what people and scripts see (DESIGN §2): the lines for people,
 * the one JSON document of `--json` (schemaVersion 1), and the exit code — 0 done · 1 failed and rolled
 * back · 2 bad usage or input, nothing changed · 3 failed and resources are left · 130 interrupted.
 */
import { AppError, UsageError, errorMessage } from '../errors.js';
import type { ResourceResult } from '../provision/apply.js';
import type { Outcome } from '../provision/events.js';
import type { PlanItem } from '../provision/plan.js';
import type { HopCheck } from '../provision/verify.js';
import { errorLine, labelOf, outcomeWords, say, type Output } from './render.js';

export type Status = 'ok' | 'failed' | 'rolled-back' | 'interrupted';

/** A command's result, ready to show. */
export interface Report {
  command: string;
  status: Status;
  exitCode: number;
  /** What the JSON document carries besides schemaVersion, command, status and error. Undefined fields are left out. */
  fields: Record<string, unknown>;
  /** Lines for people: stdout (stderr under --json, where stdout holds only the JSON). */
  lines: string[];
  error?: { code: string; message: string };
}

/** Prints a report and returns its exit code. */
export function emit(o: Output, r: Report): number {
  for (const line of r.lines) say(o, line);
  if (r.error) for (const line of r.error.message.split('\n')) errorLine(o, line);
  if (o.json) {
    const doc = { schemaVersion: 1, command: r.command, status: r.status, ...r.fields, ...(r.error ? { error: r.error } : {}) };
    o.out.write(JSON.stringify(JSON.parse(JSON.stringify(doc)), null, 2) + '\n');
  }
  return r.exitCode;
}

/**
 * The status and exit code of a setup's outcome, one account's or a whole run's: 0 done · 1 failed and rolled
 * back · 3 failed with resources left (kept on purpose for a re-run, `--no-rollback`, a rollback or a removal
 * that could not finish) · 130 interrupted.
 */
export function setupVerdict(r: { status: 'ok' | 'failed' | 'interrupted'; rolledBack: boolean; keptForRetry: boolean; removeFailures: unknown[] }): { status: Status; exitCode: number } {
  if (r.status === 'ok') return { status: 'ok', exitCode: 0 };
  if (r.status === 'interrupted') return { status: 'interrupted', exitCode: 130 };
  if (r.rolledBack && !r.keptForRetry && r.removeFailures.length === 0) return { status: 'rolled-back', exitCode: 1 };
  return { status: 'failed', exitCode: 3 };
}

/** The status and exit code of a teardown: 0 done · 3 something left · 130 interrupted. */
export function teardownVerdict(failures: number, interrupted: boolean): { status: Status; exitCode: number } {
  if (failures === 0) return { status: 'ok', exitCode: 0 };
  return interrupted ? { status: 'interrupted', exitCode: 130 } : { status: 'failed', exitCode: 3 };
}

/** A failure thrown out of a command (or the parser): its code, its lines, its exit code. */
export function errorReport(command: string, err: unknown): Report {
  const exitCode = err instanceof AppError ? err.exitCode : 1;
  const code = err instanceof AppError ? err.code : 'InternalError';
  const message = err instanceof UsageError ? err.problems.join('\n') : errorMessage(err);
  return { command, status: exitCode === 130 ? 'interrupted' : 'failed', exitCode, fields: {}, lines: [], error: { code, message } };
}

/** The JSON contract's action for an outcome (DESIGN §2: created | kept | deleted | changed). */
function actionOf(outcome: Outcome): 'created' | 'kept' | 'deleted' | 'changed' {
  switch (outcome) {
    case 'created':
      return 'created';
    case 'changed':
    case 'restored':
    case 'turned-off':
      return 'changed';
    case 'kept':
    case 'adopted':
      return 'kept';
    default:
      return 'deleted';
  }
}

/** `resources` of the JSON document: the contract's fields, plus the precise outcome where it says more. */
export function jsonResources(results: ResourceResult[]): Record<string, unknown>[] {
  return results.map((r) => ({
    kind: r.kind,
    id: r.name,
    ...(r.arn ? { arn: r.arn } : {}),
    region: r.region,
    action: actionOf(r.outcome),
    ...(r.outcome !== actionOf(r.outcome) ? { outcome: r.outcome } : {}),
    ...(r.id ? { resourceId: r.id } : {}),
    ...(r.outcome === 'scheduled-for-deletion' && r.detail ? { deletionDate: r.detail } : {}),
  }));
}

// ------------------------------------------------------------------------------------------------ plan

const VERB: Record<PlanItem['action'], string> = { create: '+ create', update: '~ change', replace: '-/+ replace', remove: '- remove', keep: '= keep' };

/** What happens to the item as the user sees it: a log group is never deleted (it holds the cluster’s logs), its removal keeps it. */
function plannedAction(i: PlanItem): PlanItem['action'] {
  return i.kind === 'log-group' && i.action === 'remove' ? 'keep' : i.action;
}

/** One line for a plan item: verb, what, where, and what changes. */
export function planLine(i: PlanItem): string {
  let verb = VERB[plannedAction(i)];
  if (i.kind === 'eks-audit-logging') verb = i.action === 'update' ? '~ turn on' : i.action === 'remove' ? '- restore' : verb;
  const detail =
    i.action === 'update'
      ? i.changes.map((c) => `${c.field}: ${c.from} → ${c.to}`).join('; ')
      : i.action === 'replace' || i.action === 'remove'
        ? (i.why ?? '')
        : '';
  // The notification lives in a bucket (with --existing-bucket-arn, the user's): name it.
  const on = i.kind === 's3-bucket-notification' && i.instance.extra?.bucket ? ` on bucket ${i.instance.extra.bucket}` : '';
  return `  ${verb.padEnd(11)} ${i.label} ${i.name}${on}${detail ? ` (${detail})` : ''}`;
}

/** The plan, by region (global first), every conflict marked where it belongs, and the counts. */
export function planLines(header: string, items: PlanItem[], conflicts: string[]): string[] {
  const lines = [header];
  const shown = items.filter((i) => !(i.action === 'remove' && i.absent));
  const regions = [...new Set(shown.map((i) => i.region))].sort((a, b) => (a === 'global' ? -1 : b === 'global' ? 1 : a.localeCompare(b)));
  const marked = new Set<string>();
  for (const region of regions) {
    lines.push(region === 'global' ? 'global:' : `${region}:`);
    for (const i of shown.filter((x) => x.region === region)) {
      // A bucket given with --existing-bucket-arn is no resource of ours, but the plan says it is used.
      if (i.kind === 's3-bucket-notification' && i.action !== 'remove' && !items.some((x) => x.kind === 's3-bucket')) {
        lines.push(`  ${'= use'.padEnd(11)} S3 bucket ${i.instance.extra?.bucket} (--existing-bucket-arn: not created or changed; our notification is added to it)`);
      }
      lines.push(planLine(i));
      for (const c of i.conflicts) {
        lines.push(`    ! conflict: ${c}`);
        marked.add(c);
      }
    }
  }
  const count = (a: PlanItem['action']) => shown.filter((i) => plannedAction(i) === a).length;
  lines.push(`${count('create')} to create, ${count('update')} to change, ${count('replace')} to replace, ${count('remove')} to remove, ${count('keep')} to keep.`);
  const other = conflicts.filter((c) => !marked.has(c));
  if (other.length > 0) {
    lines.push('Conflicts:');
    for (const c of other) lines.push(`  ! ${c}`);
  }
  return lines;
}

/** A plan item in the JSON document: the same names and ARNs setup reports. */
export function jsonPlanItem(i: PlanItem): Record<string, unknown> {
  return {
    kind: i.kind,
    id: i.name,
    ...(i.arn ? { arn: i.arn } : i.found?.ref.arn ? { arn: i.found.ref.arn } : {}),
    region: i.region,
    action: i.action === 'update' ? 'change' : plannedAction(i),
    ...(i.changes.length ? { changes: i.changes } : {}),
    ...(i.why ? { why: i.why } : {}),
    ...(i.conflicts.length ? { conflicts: i.conflicts } : {}),
    ...(i.kind === 's3-bucket-notification' && i.instance.extra?.bucket ? { bucket: i.instance.extra.bucket } : {}),
  };
}

// ---------------------------------------------------------------------------------------------- results

/** Per-resource lines of an outcome (teardown's report words each: deleted, already gone, turned off, kept, scheduled). */
export function resultLines(o: Output, results: ResourceResult[]): string[] {
  return results.map((r) => {
    const mark =
      r.outcome === 'created' ? o.c.green('+') : r.outcome === 'deleted' || r.outcome === 'scheduled-for-deletion' ? o.c.red('-') : r.outcome === 'kept' || r.outcome === 'adopted' || r.outcome === 'already-gone' ? '=' : o.c.yellow('~');
    return `  ${mark} ${labelOf(r.label, r.name, r.region)}: ${outcomeWords(r.kind, r.outcome, r.detail)}`;
  });
}

/** `12 created, 2 changed, 5 kept`. */
export function counts(results: ResourceResult[]): string {
  const by = new Map<string, number>();
  for (const r of results) by.set(actionOf(r.outcome), (by.get(actionOf(r.outcome)) ?? 0) + 1);
  return ['created', 'changed', 'deleted', 'kept'].filter((a) => by.get(a)).map((a) => `${by.get(a)} ${a}`).join(', ') || 'nothing';
}

// ----------------------------------------------------------------------------------------------- status

/** One line per check, by hop; a failing, doubtful or unchecked one gets its fix underneath. */
export function statusLines(o: Output, checks: HopCheck[], setupFix: string): string[] {
  const lines: string[] = [];
  const mark = { ok: o.c.green('✓'), fail: o.c.red('✗'), warn: o.c.yellow('!'), unchecked: o.c.dim('?') };
  for (const c of checks) {
    lines.push(`${String(c.hop).padStart(2)} ${mark[c.state]} ${labelOf(c.label, c.resource, c.region)}: ${c.state === 'ok' ? o.c.dim(c.detail) : c.detail}`);
    const fix = c.repairBySetup ? setupFix : c.fix;
    if (fix && c.state !== 'ok') lines.push(`       ${o.c.dim('fix:')} ${fix}`);
  }
  return lines;
}
