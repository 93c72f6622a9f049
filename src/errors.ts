/**
 * Errors thrown by deep code. Only src/cli/main.ts turns them into exit codes and printed lines.
 * A message must be one clear line that says what to do, and must never contain a secret.
 */
export class AppError extends Error {
  /** PascalCase code, stable: it appears in --json output as error.code. */
  readonly code: string;
  /** Exit code the CLI uses when this error ends the command (DESIGN §2). */
  readonly exitCode: number;

  constructor(code: string, message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Bad usage or bad input: exit 2, and nothing was changed in AWS. `problems` are reported together. */
export class UsageError extends AppError {
  readonly problems: string[];

  constructor(problems: string[] | string, code = 'BadInput') {
    const list = Array.isArray(problems) ? problems : [problems];
    super(code, list.join('\n'), { exitCode: 2 });
    this.name = 'UsageError';
    this.problems = list;
  }
}

/** The user pressed Ctrl+C (or answered no to the confirmation where that aborts). */
export class UserAbort extends AppError {
  constructor(message = 'Interrupted.') {
    super('Interrupted', message, { exitCode: 130 });
    this.name = 'UserAbort';
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
