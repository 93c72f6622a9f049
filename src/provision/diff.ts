/** The default field-by-field comparison of resource states, and how a difference reads for people. */
import type { Change, State } from './resource.js';

/** Keys sorted, so that two policy documents compare regardless of key order. */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as object)
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

export function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** A value as a plan line shows it: short scalars as they are, documents summarised. */
export function show(v: unknown): string {
  if (v === undefined || v === null || v === '') return '(none)';
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.length === 0 ? '(none)' : v.join(', ');
  if (typeof v === 'object') {
    const stmts = (v as { Statement?: { Sid?: string }[] }).Statement;
    if (Array.isArray(stmts)) return `policy [${stmts.map((s) => s.Sid ?? '?').join(', ')}]`;
    const entries = Object.entries(v as Record<string, unknown>);
    return entries.length === 0 ? '(none)' : entries.map(([k, x]) => `${k}=${String(x)}`).join(', ');
  }
  const s = String(v);
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}

/**
 * Fields of `desired` whose current value differs. A policy document that differs only in what it shows
 * reads "differs from what setup makes" rather than two equal-looking summaries.
 */
export function diffFields(desired: State, current: State): Change[] {
  const changes: Change[] = [];
  for (const field of Object.keys(desired)) {
    const want = desired[field];
    if (want === undefined) continue;
    const have = current[field];
    if (same(want, have)) continue;
    let from = show(have);
    let to = show(want);
    if (from === to) {
      from = have === undefined ? '(none)' : 'edited';
      to = 'as setup makes it';
    }
    changes.push({ field, from, to });
  }
  return changes;
}
