/** The default comparison of resource states and how a difference reads in a plan (`field: from -> to`). */
import { describe, expect, it } from 'vitest';
import { canonical, diffFields, same, show } from '../../../src/provision/diff.js';

describe('canonical and same', () => {
  it('compares documents regardless of key order, but not of array order', () => {
    expect(same({ a: 1, b: { d: [1, 2], c: 'x' } }, { b: { c: 'x', d: [1, 2] }, a: 1 })).toBe(true);
    expect(same({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(same([{ b: 1, a: 2 }], [{ a: 2, b: 1 }])).toBe(true);
  });

  it('treats a key whose value is undefined as absent', () => {
    expect(canonical({ b: undefined, a: 1 })).toEqual({ a: 1 });
    expect(same({ a: 1, b: undefined }, { a: 1 })).toBe(true);
  });

  it('tells apart values of different types', () => {
    expect(same(1, '1')).toBe(false);
    expect(same(true, 'true')).toBe(false);
    expect(same(null, undefined)).toBe(false);
    expect(same(null, null)).toBe(true);
  });
});

describe('show', () => {
  it('shows nothing as (none), booleans as on/off, string lists joined', () => {
    for (const v of [undefined, null, '', []]) expect(show(v)).toBe('(none)');
    expect(show(true)).toBe('on');
    expect(show(false)).toBe('off');
    expect(show(['a', 'b'])).toBe('a, b');
    expect(show(180)).toBe('180');
  });

  it('summarises a policy by its statement ids, other objects as key=value', () => {
    expect(show({ Version: '2012-10-17', Statement: [{ Sid: 'A' }, {}] })).toBe('policy [A, ?]');
    expect(show({ team: 'sec', env: 'prod' })).toBe('team=sec, env=prod');
    expect(show({})).toBe('(none)');
  });

  it('cuts long values to 80 characters', () => {
    const s = show('x'.repeat(200));
    expect(s).toHaveLength(78);
    expect(s.endsWith('…')).toBe(true);
    expect(show('y'.repeat(80))).toBe('y'.repeat(80));
  });
});

describe('diffFields', () => {
  it('lists each desired field whose current value differs, as people read it', () => {
    expect(diffFields({ versioning: true, days: 180, tags: { a: '1' } }, { versioning: false, days: 180, tags: { a: '2' } })).toEqual([
      { field: 'versioning', from: 'off', to: 'on' },
      { field: 'tags', from: 'a=2', to: 'a=1' },
    ]);
  });

  it('ignores fields the desired state leaves undefined and fields only the current state has', () => {
    expect(diffFields({ a: undefined, b: 1 }, { a: 'x', b: 1, health: 'bad' })).toEqual([]);
  });

  it('says a missing field is (none)', () => {
    expect(diffFields({ pattern: 'p' }, {})).toEqual([{ field: 'pattern', from: '(none)', to: 'p' }]);
  });

  it('does not see a change in a policy whose keys are in another order', () => {
    const want = { policy: { Version: '2012-10-17', Statement: [{ Sid: 'A', Effect: 'Allow', Action: ['s3:GetObject'] }] } };
    const have = { policy: { Statement: [{ Action: ['s3:GetObject'], Effect: 'Allow', Sid: 'A' }], Version: '2012-10-17' } };
    expect(diffFields(want, have)).toEqual([]);
  });

  it('words a difference that would read the same on both sides: "edited -> as setup makes it"', () => {
    const want = { policy: { Statement: [{ Sid: 'A', Action: 's3:GetObject' }] } };
    const have = { policy: { Statement: [{ Sid: 'A', Action: 's3:*' }] } };
    expect(diffFields(want, have)).toEqual([{ field: 'policy', from: 'edited', to: 'as setup makes it' }]);
    expect(diffFields({ name: 'x'.repeat(100) + 'a' }, { name: 'x'.repeat(100) + 'b' })).toEqual([{ field: 'name', from: 'edited', to: 'as setup makes it' }]);
  });
});
