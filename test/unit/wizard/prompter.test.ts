import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UserAbort } from '../../../src/errors.js';
import { createPrompter, mapPromptError, runValidator } from '../../../src/wizard/prompter.js';

/** A fake terminal for inquirer: keys go in, the rendered text is collected (escape codes stripped). */
function terminal() {
  const input = new PassThrough();
  const output = new PassThrough();
  let seen = '';
  output.on('data', (d: Buffer) => (seen += d.toString('utf8')));
  // inquirer reads the terminal size and raw mode from the input like from a TTY.
  Object.assign(input, { isTTY: true, setRawMode: () => input });
  Object.assign(output, { isTTY: true, columns: 120, rows: 40 });
  const plain = () => seen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  /** Waits until the screen shows `text`, then sends `keys`. */
  async function when(text: string, keys: string): Promise<void> {
    const deadline = Date.now() + 3000;
    while (!plain().includes(text)) {
      if (Date.now() > deadline) throw new Error(`never saw "${text}" in:\n${plain()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    input.write(keys);
  }
  return { input, output, plain, when };
}

describe('prompter (inquirer adapter)', () => {
  it('password: masked, trimmed, validated with the reason shown; the secret is never drawn', async () => {
    const t = terminal();
    const p = createPrompter(undefined, t);
    const answer = p.password({ message: 'Secret:', validate: (v) => (v.length < 5 ? 'Too short.' : undefined) });
    await t.when('Secret:', 'abc\r');
    await t.when('Too short.', '\x7f\x7f\x7fTOPSECRET-42 \r');
    await expect(answer).resolves.toBe('TOPSECRET-42');
    expect(t.plain()).not.toContain('TOPSECRET');
    expect(t.plain()).toContain('*'.repeat(5));
  });

  it('input: the default on Enter; a validator that throws is a reason, not a crash', async () => {
    const t = terminal();
    const p = createPrompter(undefined, t);
    let calls = 0;
    const answer = p.input({
      message: 'Region:',
      default: 'eu-west-1',
      validate: () => {
        calls++;
        if (calls === 1) throw new Error('network down');
        return undefined;
      },
    });
    await t.when('Region:', '\r');
    await t.when('Could not check that answer: network down', '\r');
    await expect(answer).resolves.toBe('eu-west-1');
  });

  it('Ctrl+C at a question is a UserAbort (exit 130)', async () => {
    const t = terminal();
    const p = createPrompter(undefined, t);
    const answer = p.confirm({ message: 'Go on?' });
    await t.when('Go on?', '\x03');
    const err = await answer.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserAbort);
    expect((err as UserAbort).exitCode).toBe(130);
  });

  it('an aborted session signal stops the next question before it is drawn', async () => {
    const t = terminal();
    const controller = new AbortController();
    controller.abort();
    const p = createPrompter(controller.signal, t);
    await expect(p.input({ message: 'Never shown:' })).rejects.toBeInstanceOf(UserAbort);
    expect(t.plain()).not.toContain('Never shown');
  });

  it('checkbox: ticked choices come back as values; an empty pick shows the validator reason', async () => {
    const t = terminal();
    const p = createPrompter(undefined, t);
    const answer = p.checkbox({
      message: 'Clusters:',
      choices: [
        { value: 'prod', name: 'prod  audit logging off', short: 'prod' },
        { value: 'stage', name: 'stage  audit logging on', short: 'stage', checked: true },
        { value: 'new', name: 'new', disabled: 'CREATING, not ACTIVE' },
      ],
      validate: (v) => (v.length === 0 ? 'Pick at least one.' : undefined),
    });
    await t.when('Clusters:', ' '); // cursor starts on prod: tick it
    await t.when('◉ prod', '\x1b[B '); // down to stage, untick it
    await t.when('◯ stage', '\r');
    await expect(answer).resolves.toEqual(['prod']);
    expect(t.plain()).toContain('CREATING, not ACTIVE');
  });

  it('select: typing a name jumps to it (how the region list is searched), Enter takes it', async () => {
    const t = terminal();
    const p = createPrompter(undefined, t);
    const regions = ['us-east-1', 'af-south-1', 'eu-central-1', 'eu-west-1', 'eu-west-2'];
    const answer = p.select({ message: 'Region:', default: 'us-east-1', choices: regions.map((r) => ({ value: r, name: r })) });
    await t.when('Region:', 'eu-west-1');
    await t.when('❯ eu-west-1', '\r');
    await expect(answer).resolves.toBe('eu-west-1');
  });

  it('maps inquirer errors by name; other errors pass through', async () => {
    const exit = Object.assign(new Error('x'), { name: 'ExitPromptError' });
    const abort = Object.assign(new Error('x'), { name: 'AbortPromptError' });
    expect(mapPromptError(exit)).toBeInstanceOf(UserAbort);
    expect(mapPromptError(abort)).toBeInstanceOf(UserAbort);
    const other = new TypeError('bug');
    expect(mapPromptError(other)).toBe(other);
    await expect(runValidator(async () => 'why', 'v')).resolves.toBe('why');
    await expect(runValidator(undefined, 'v')).resolves.toBeUndefined();
  });
});
