/**
 * The only door to the terminal's questions: a narrow `Prompter` interface and the one implementation that
 * uses the @inquirer prompts (through inquirer.ts, imported lazily, so `--help` never loads them). Tests of the
 * wizard's logic pass a scripted prompter instead; the e2e tests drive this one in a pseudo-terminal. The cli
 * asks its own yes/no questions ("Apply these changes?", teardown's confirmation) through it too:
 * `createPrompter(session.signal).confirm({ message: 'Apply these changes?' })` (default No; Ctrl+C is UserAbort).
 *
 * Conventions shared by every question:
 * - validators return `undefined` when the answer is fine, otherwise the reason, shown under the question
 *   while it is asked again (the same convention as src/config/validate.ts, so flag checks plug in as is);
 * - a validator that throws is treated as a reason too (never a stack trace at a question);
 * - text answers are trimmed before they are validated and returned;
 * - Ctrl+C at a question (inquirer's ExitPromptError) and an aborted session signal both become `UserAbort`.
 */
import { UserAbort, errorMessage } from '../errors.js';

/** undefined: the answer is fine; a string: why it is not. May be async (e.g. a lookup in AWS). */
export type Validator<T> = (value: T) => string | undefined | Promise<string | undefined>;

/** One entry of a select or checkbox question. */
export interface Choice<T> {
  value: T;
  /** What the list shows. */
  name: string;
  /** Shown after the question once answered (default: `name`). */
  short?: string;
  /** Shown under the list while the cursor is on this entry. */
  description?: string;
  /** Checkbox only: ticked to start with. */
  checked?: boolean;
  /** Shown greyed out and not selectable; a string says why. */
  disabled?: boolean | string;
}

/** The questions the wizard can ask. Every method rejects with `UserAbort` on Ctrl+C. */
export interface Prompter {
  /** A yes/no question; `default` (Enter) is No unless given. */
  confirm(q: { message: string; default?: boolean }): Promise<boolean>;
  input(q: { message: string; default?: string; validate?: Validator<string> }): Promise<string>;
  /** Masked input: never echoed, never in a default. */
  password(q: { message: string; validate?: Validator<string> }): Promise<string>;
  select<T>(q: { message: string; choices: Choice<T>[]; default?: T }): Promise<T>;
  checkbox<T>(q: { message: string; choices: Choice<T>[]; validate?: Validator<T[]> }): Promise<T[]>;
}

/** Runs a validator, turning a throw into a reason so that a failing lookup re-asks instead of crashing. */
export async function runValidator<T>(validate: Validator<T> | undefined, value: T): Promise<string | undefined> {
  if (!validate) return undefined;
  try {
    return await validate(value);
  } catch (err) {
    return `Could not check that answer: ${errorMessage(err)}`;
  }
}

/** inquirer's validate contract: true, or the message to show. */
function forInquirer<T>(validate: Validator<T> | undefined): ((value: T) => Promise<true | string>) | undefined {
  if (!validate) return undefined;
  return async (value) => (await runValidator(validate, value)) ?? true;
}

function trimmed(validate: Validator<string> | undefined): Validator<string> | undefined {
  return validate && ((v: string) => validate(v.trim()));
}

/** Ctrl+C (ExitPromptError) or the session's abort (AbortPromptError) -> UserAbort; anything else as is. */
export function mapPromptError(err: unknown): unknown {
  const name = (err as Error | undefined)?.name;
  if (name === 'ExitPromptError' || name === 'AbortPromptError' || err instanceof UserAbort) {
    return new UserAbort('Interrupted at a question: nothing was changed.');
  }
  return err;
}

/**
 * The terminal prompter.
 * @param signal the session's signal: a SIGINT that arrives between questions (during an AWS lookup, when the
 *   terminal is not in raw mode) aborts the next question instead of being lost.
 * @param streams where to read keys and draw (default: process.stdin and process.stdout); for tests.
 */
export function createPrompter(
  signal?: AbortSignal,
  streams?: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream },
): Prompter {
  const load = () => import('./inquirer.js');
  // streams: for tests only; the CLI uses the process's terminal.
  const context = { signal, ...(streams ? { input: streams.input, output: streams.output } : {}) };
  async function run<T>(ask: () => Promise<T>): Promise<T> {
    if (signal?.aborted) throw mapPromptError(new UserAbort());
    try {
      return await ask();
    } catch (err) {
      throw mapPromptError(err);
    }
  }
  return {
    confirm: (q) => run(async () => (await load()).confirm({ message: q.message, default: q.default ?? false }, context)),
    input: (q) =>
      run(async () => {
        const answer = await (await load()).input(
          {
            message: q.message,
            default: q.default,
            validate: forInquirer(trimmed(q.validate)),
            // Show the answer as it is taken (trimmed), not as typed.
            transformer: (value, { isFinal }) => (isFinal ? value.trim() : value),
          },
          context,
        );
        return answer.trim();
      }),
    password: (q) =>
      run(async () => {
        // mask: show a '*' per character, so people see their paste landed, and nothing of the secret.
        const answer = await (await load()).password({ message: q.message, mask: '*', validate: forInquirer(trimmed(q.validate)) }, context);
        return answer.trim();
      }),
    select: <T>(q: { message: string; choices: Choice<T>[]; default?: T }) =>
      run(async () => (await load()).select<T>({ message: q.message, choices: q.choices, default: q.default, pageSize: 12 }, context)),
    checkbox: <T>(q: { message: string; choices: Choice<T>[]; validate?: Validator<T[]> }) =>
      run(async () => {
        const validate = forInquirer(q.validate);
        return (await load()).checkbox<T>(
          {
            message: q.message,
            choices: q.choices,
            pageSize: 15,
            validate: validate && ((items) => validate(items.map((i) => i.value))),
          },
          context,
        );
      }),
  };
}
