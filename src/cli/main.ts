/**
 * Composition root: parses argv, runs one command, turns errors into exit codes (DESIGN §2):
 * 0 done · 1 failed and rolled back · 2 bad usage or input, nothing changed · 3 failed with resources
 * left · 130 interrupted. The only place that sets process.exitCode.
 */
import { CommanderError } from 'commander';
import { AppError, UsageError, errorMessage } from '../errors.js';
import { normalizeArgv } from './argv.js';
import { buildProgram } from './program.js';
import { errorLine, makeOutput, printJson } from './render.js';

async function dispatch(name: string, opts: Record<string, unknown>): Promise<number> {
  switch (name) {
    case 'setup':
    case 'plan':
      return (await import('./commands/setup.js')).setupCommand(name, opts);
    case 'teardown':
      return (await import('./commands/teardown.js')).teardownCommand(opts);
    default: {
      const mod = (await import('./commands/other.js')) as { otherCommand(n: string, o: Record<string, unknown>): Promise<number> };
      return mod.otherCommand(name, opts);
    }
  }
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  let commandName = 'setup';
  let commandOpts: Record<string, unknown> = {};
  const program = buildProgram(async (name, opts) => {
    commandName = name;
    commandOpts = opts;
    code = await dispatch(name, opts);
  });
  program.configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  try {
    await program.parseAsync(normalizeArgv(argv), { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with exit code 0; unknown flags and the like with 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    const o = makeOutput(commandOpts as { json?: boolean; color?: boolean });
    const exitCode = err instanceof AppError ? err.exitCode : 1;
    const codeName = err instanceof AppError ? err.code : 'InternalError';
    const lines = err instanceof UsageError ? err.problems : [errorMessage(err)];
    for (const line of lines) errorLine(o, line);
    if (!(err instanceof AppError) && process.env.FORTICNAPP_EKS_AUDIT_DEBUG) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    if (o.json) {
      printJson(o, {
        schemaVersion: 1,
        command: commandName,
        status: exitCode === 130 ? 'interrupted' : 'failed',
        error: { code: codeName, message: lines.join('\n') },
      });
    }
    return exitCode;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
