// A key file the user may not read. Tests run as root in CI, where chmod 000 does not stop reading, so the
// read itself is made to fail with the EACCES error Node gives an ordinary user.
import { describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../../src/errors.js';

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    readFile: async (path: string) => {
      throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES', path });
    },
  };
});

const { readKeyFile } = await import('../../../src/lacework/credentials.js');

describe('readKeyFile on an unreadable file', () => {
  it('names the file and says it cannot be read', async () => {
    const err = await readKeyFile('/home/me/acme-key.json').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toContain('/home/me/acme-key.json');
    expect((err as UsageError).message).toContain('permission denied');
  });
});
