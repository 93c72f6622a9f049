/**
 * FortiCNAPP credentials: flags, LW_* and ~/.lacework.toml first (said which, not asked); otherwise the key file
 * downloaded from the console (its path as typed, pasted or dragged in: shell quoting undone, `~` expanded) or
 * the key typed in (the secret masked). Whatever gives them, the key is checked once with a token call and the
 * outcome said in one line; a rejected key is asked again, so a typo costs a retype, not a rerun.
 */
import { AppError, UserAbort, UsageError, errorMessage } from '../../errors.js';
import { readKeyFile, resolveCredentials, type CredentialInputs, type LaceworkCredentials } from '../../lacework/credentials.js';
import type { Answers, WizardContext } from '../context.js';
import { typedPath } from '../paths.js';
import { QUESTIONS as Q, checkAbort } from './shared.js';

type Ctx = Pick<WizardContext, 'credentialFlags' | 'prompter' | 'say' | 'env' | 'home' | 'signal' | 'verifyCredentials'>;
type Method = 'key-file' | 'typed';

/** Checks the key with a token call; says the outcome in one line. @returns the reason when it was refused. */
async function check(ctx: Ctx, c: LaceworkCredentials): Promise<string | undefined> {
  try {
    await ctx.verifyCredentials(c);
  } catch (err) {
    if (err instanceof UserAbort) throw err;
    // A rejected key or an unreachable account: the message never quotes the secret.
    const why = err instanceof AppError ? err.message : errorMessage(err);
    ctx.say(`✗ ${why}`);
    return why;
  }
  ctx.say(`FortiCNAPP API key accepted (account ${c.account}${c.subaccount ? `, sub-account ${c.subaccount}` : ''}; from ${c.source}).`);
  return undefined;
}

/** Whether a credential flag was given (then a rejected key is the command line's problem: exit 2). */
function fromFlags(flags: CredentialInputs): boolean {
  return [flags.account, flags.apiKey, flags.apiSecret, flags.apiKeyFile, flags.profile].some((v) => v !== undefined && v.trim() !== '');
}

/**
 * Sets `a.credentials` (checked) and `a.savedCredentials` (how they were given, to offer next time).
 * @throws UsageError (exit 2) for an unreadable `--api-key-file`, a missing `--profile`, or a key the flags gave
 *   that the API rejects; UserAbort on Ctrl+C.
 */
export async function credentials(ctx: Ctx, a: Answers): Promise<void> {
  const found = await resolveCredentials(ctx.credentialFlags, ctx.env, ctx.home);
  if (found.credentials) {
    const refused = await check(ctx, found.credentials);
    if (!refused) {
      a.credentials = found.credentials;
      return;
    }
    if (fromFlags(ctx.credentialFlags)) throw new UsageError(refused, 'ApiKeyRejected');
    ctx.say(`The key from ${found.credentials.source} does not work; give another one.`);
  }

  const saved = a.saved?.credentials;
  let method: Method = saved?.method ?? 'key-file';
  let keyFile = saved?.apiKeyFile;
  let typedAccount = saved?.account;
  for (;;) {
    checkAbort(ctx.signal);
    method = await ctx.prompter.select<Method>({
      message: Q.credentialMethod.message,
      default: method,
      choices: [
        { value: 'key-file', name: 'Path of the API key file downloaded from the FortiCNAPP console', short: 'key file' },
        { value: 'typed', name: 'Type the account, API key id and secret', short: 'type the key' },
      ],
    });
    // Typed answers stand where flags would (the flags themselves did not resolve, or were not given).
    const inputs: CredentialInputs = { ...ctx.credentialFlags };
    if (method === 'key-file') {
      const path = await ctx.prompter.input({
        message: Q.apiKeyFile.message,
        ...(keyFile ? { default: keyFile } : {}),
        async validate(value) {
          if (value === '') return 'Type the path of the downloaded JSON key file, e.g. ~/Downloads/ACME_ABC123.json.';
          try {
            await readKeyFile(typedPath(value, ctx.home));
            return undefined;
          } catch (err) {
            return errorMessage(err); // names the path and what is wrong; never the secret
          }
        },
      });
      keyFile = typedPath(path, ctx.home);
      inputs.apiKeyFile = keyFile;
    }
    const askAccount = async () => {
      const byDefault = typedAccount ?? ctx.env.LW_ACCOUNT?.trim();
      inputs.account = await ctx.prompter.input({ message: Q.account.message, ...(byDefault ? { default: byDefault } : {}), validate: Q.account.validate });
      typedAccount = inputs.account;
    };
    if (method === 'key-file') {
      // A key file always has the key id and secret; it may lack the account.
      if ((await resolveCredentials(inputs, ctx.env, ctx.home)).missing.includes('--account')) await askAccount();
    } else {
      // Typed: everything the flags did not give (LW_* or a profile may hold the key that was just refused).
      if (!inputs.account) await askAccount();
      if (!inputs.apiKey) inputs.apiKey = await ctx.prompter.input({ message: Q.apiKey.message, validate: Q.apiKey.validate });
      if (!inputs.apiSecret) inputs.apiSecret = await ctx.prompter.password({ message: Q.apiSecret.message, validate: Q.apiSecret.validate });
    }
    const r = await resolveCredentials(inputs, ctx.env, ctx.home);
    if (!r.credentials) throw new UsageError(`FortiCNAPP credentials are still incomplete (missing ${r.missing.join(', ')}).`);
    const typed = inputs.account !== ctx.credentialFlags.account || inputs.apiKey !== ctx.credentialFlags.apiKey || inputs.apiSecret !== ctx.credentialFlags.apiSecret;
    const c: LaceworkCredentials = typed
      ? { ...r.credentials, source: r.credentials.source.replace(/^flags\b/, fromFlags(ctx.credentialFlags) ? 'flags and your answers' : 'your answers') }
      : r.credentials;
    checkAbort(ctx.signal);
    if (await check(ctx, c)) continue;
    a.credentials = c;
    a.savedCredentials = {
      method,
      ...(method === 'key-file' && keyFile ? { apiKeyFile: keyFile } : {}),
      ...(c.account ? { account: c.account } : {}),
    };
    return;
  }
}
