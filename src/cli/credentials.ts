/**
 * FortiCNAPP credentials for the commands that act on an existing deployment (teardown, status), in order
 * (DESIGN §2): flags, the LW_* variables or a ~/.lacework.toml profile; then the source the deployment
 * recorded at setup (the key-file path or the profile name, never the secret); then, on a terminal, a
 * question (the recorded path as its default). Nothing found: a problem line naming the flags.
 */
import { UsageError } from '../errors.js';
import { credentialInputs, readKeyFile, resolveCredentials, type CredentialInputs, type CredentialOrigin, type LaceworkCredentials } from '../lacework/credentials.js';
import type { LaceworkApi } from '../lacework/api.js';
import type { CredentialSource } from '../state/record.js';
import type { Session } from './session.js';

/** The problem line for credentials that are incomplete. */
export function missingCredentialsProblem(missing: string[], why = ''): string {
  return `FortiCNAPP credentials are incomplete (missing ${missing.join(', ')}): pass --api-key-file <downloaded key file>, or --account, --api-key and --api-secret (or LW_ACCOUNT, LW_API_KEY, LW_API_SECRET, or a ~/.lacework.toml profile with --profile).${why ? ` ${why}` : ''}`;
}

/**
 * Resolves the credentials for a deployment.
 * @param needed without them the command cannot do its job (teardown with a registered integration): asked on a
 *   terminal, otherwise a UsageError naming the flags.
 * @returns undefined when none are at hand and they are not needed (status then leaves the FortiCNAPP hop unchecked).
 * @throws UsageError `NoCredentials` (exit 2), or the key file's / profile's own UsageError.
 */
export async function credentialsFor(given: CredentialInputs, s: Session, recorded: CredentialSource | undefined, needed: boolean, why: string): Promise<LaceworkCredentials | undefined> {
  const first = await resolveCredentials(given, process.env);
  if (first.credentials) return first.credentials;
  if (recorded && (recorded.keyFile || recorded.profile)) {
    const again = await resolveCredentials(
      { ...given, ...(given.apiKeyFile ? {} : recorded.keyFile ? { apiKeyFile: recorded.keyFile } : {}), ...(given.profile ? {} : recorded.profile ? { profile: recorded.profile } : {}), ...(given.account ? {} : { account: recorded.account }) },
      process.env,
    ).catch((err: unknown) => {
      // The recorded key file moved or was deleted: ask (terminal) or say so below.
      if (err instanceof UsageError) return { credentials: undefined, missing: first.missing, problem: err.problems.join(' ') };
      throw err;
    });
    if (again.credentials) return again.credentials;
  }
  if (!needed) return undefined;
  if (s.interactive) {
    const { createPrompter } = await import('../wizard/prompter.js');
    const { typedPath } = await import('../wizard/paths.js');
    const path = await createPrompter(s.signal).input({
      message: 'Path of the FortiCNAPP API key file (downloaded from Settings > API keys):',
      ...(recorded?.keyFile ? { default: recorded.keyFile } : {}),
      validate: async (v) => {
        try {
          await readKeyFile(typedPath(v, process.env.HOME ?? ''));
          return undefined;
        } catch (err) {
          return err instanceof Error ? err.message : String(err);
        }
      },
    });
    const r = await resolveCredentials({ ...given, apiKeyFile: typedPath(path, process.env.HOME ?? '') }, process.env);
    if (r.credentials) return r.credentials;
    throw new UsageError(missingCredentialsProblem(r.missing, why), 'NoCredentials');
  }
  throw new UsageError(missingCredentialsProblem(first.missing, why), 'NoCredentials');
}

/** What the deployment record keeps of the credentials: where they came from, never the secret. */
export function credentialSource(c: LaceworkCredentials): CredentialSource {
  return { account: c.account, ...(c.subaccount ? { subaccount: c.subaccount } : {}), ...(c.origin.keyFile ? { keyFile: c.origin.keyFile } : {}), ...(c.origin.profile ? { profile: c.origin.profile } : {}) };
}

/**
 * The provisioner's `connect` callback for a command's credential flags: credentials (see `credentialsFor`)
 * to a FortiCNAPP API client. `used` tells afterwards which key file or profile served, for the commands
 * the run prints.
 */
export function laceworkConnector(opts: CredentialInputs, s: Session, why: string) {
  const used: CredentialOrigin = {};
  const connect = async (source: CredentialSource | undefined, needed: boolean): Promise<LaceworkApi | undefined> => {
    const c = await credentialsFor(credentialInputs(opts), s, source, needed, why);
    if (!c) return undefined;
    Object.assign(used, c.origin);
    const { createLaceworkApi } = await import('../lacework/api.js');
    return createLaceworkApi(c);
  };
  return { connect, used };
}
