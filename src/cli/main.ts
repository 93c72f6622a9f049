/**
 * Composition root: argv -> program -> one command -> its report -> exit code (DESIGN §2). The only place
 * that sets process.exitCode. With `--json` anywhere on the command line, every outcome, parser errors
 * included, is exactly one JSON document on stdout.
 */
import { CommanderError } from 'commander';
import { UsageError } from '../errors.js';
import { normalizeArgv } from './argv.js';
import { buildProgram, COMMANDS } from './program.js';
import { emit, errorReport, type Report } from './report.js';
import { makeOutput } from './render.js';
import { startSession, type Session } from './session.js';

type Opts = Record<string, unknown>;

/** Runs one command in a session, prints its report, and returns the exit code. */
async function dispatch(name: string, opts: Opts, argv: string[]): Promise<number> {
  let s;
  try {
    s = startSession(opts as { json?: boolean; color?: boolean; nonInteractive?: boolean; stateDir?: string });
  } catch (err) {
    return emit(makeOutput(opts as { json?: boolean; color?: boolean }), errorReport(name, err));
  }
  try {
    return emit(s.o, await run(name, opts, argv, s));
  } catch (err) {
    const r = errorReport(name, err);
    if (r.error?.code === 'InternalError' && process.env.FORTICNAPP_EKS_AUDIT_DEBUG) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    return emit(s.o, r);
  } finally {
    s.done();
  }
}

async function run(name: string, opts: Opts, argv: string[], s: Session): Promise<Report> {
  {
    if ((opts.organization || opts.accounts) && name !== 'permissions') {
      const { organizationCommand } = await import('./organization.js');
      return await organizationCommand(name, opts, s, argv);
    }
    switch (name) {
      case 'setup':
        return await (await import('./commands/setup.js')).setupCommand(opts, s, argv);
      case 'plan':
        return await (await import('./commands/plan.js')).planCommand(opts, s, argv);
      case 'teardown':
        return await (await import('./commands/teardown.js')).teardownCommand(opts, s);
      case 'status':
        return await (await import('./commands/status.js')).statusCommand(opts, s);
      case 'list':
        return await (await import('./commands/list.js')).listCommand(opts, s);
      default:
        return await (await import('./commands/permissions.js')).permissionsCommand(opts, s);
    }
  }
}

/** The first word that is a command, or a word that looks like one but is not. */
function commandWord(argv: string[]): string | undefined {
  const first = argv[0];
  return first !== undefined && !first.startsWith('-') ? first : undefined;
}

export async function main(rawArgv: string[]): Promise<number> {
  const argv = normalizeArgv(rawArgv);
  const json = argv.includes('--json');
  const word = commandWord(argv);
  const known = (w: string) => (COMMANDS as readonly string[]).includes(w);
  const fail = (err: unknown, command = word && known(word) ? word : 'setup'): number => emit(makeOutput({ json }), errorReport(command, err));
  const unknown = (w: string) => new UsageError(`Unknown command '${w}'. The commands are: ${COMMANDS.join(', ')} (setup is the default). Run with --help for usage.`, 'UnknownCommand');
  if (word !== undefined && !known(word) && word !== 'help') return fail(unknown(word), 'setup');
  // `help frobnicate`: commander would print the whole help and fail with "(outputHelp)".
  const helped = word === 'help' ? argv[1] : undefined;
  if (helped !== undefined && !helped.startsWith('-') && !known(helped)) return fail(unknown(helped), 'setup');
  let code = 0;
  const program = buildProgram(async (name, opts) => {
    code = await dispatch(name, opts, argv);
  });
  // Parser errors are reported like every other error (one line; one JSON document with --json).
  program.configureOutput({
    writeErr: (str) => {
      if (!json) process.stderr.write(str);
    },
    writeOut: (str) => process.stdout.write(str),
    outputError: () => {},
  });
  for (const sub of program.commands) sub.configureOutput({ writeErr: (str) => (!json ? process.stderr.write(str) : true), writeOut: (str) => process.stdout.write(str), outputError: () => {} });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with exit code 0.
      if (err.exitCode === 0) return 0;
      // A word after flags (`--json frobnicate`, `--json status`) lands on the default command as an argument.
      const stray = word === undefined && err.code === 'commander.excessArguments' ? program.commands.find((c) => c.name() === 'setup')?.args[0] : undefined;
      if (stray !== undefined && !known(stray) && stray !== 'help') return fail(unknown(stray), 'setup');
      if (stray !== undefined) {
        return fail(new UsageError(`The command goes first, before its flags: forticnapp-eks-audit ${[stray, ...argv.filter((a) => a !== stray)].join(' ')}`, 'CommandNotFirst'), 'setup');
      }
      const code = err.code.replace(/^commander\./, '').replace(/(^|[-.])(\w)/g, (_, __, c: string) => c.toUpperCase());
      return fail(new UsageError(`${err.message.replace(/^error: /, '')} (run with --help for usage)`, code));
    }
    return fail(err);
  }
  return code;
}

// A reader that stops early (`--help | head`) must not crash the run with an EPIPE stack trace: the rest of
// stdout is dropped, the command goes on (a setup half applied is worse than lost lines).
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});
process.exitCode = await main(process.argv.slice(2));
