/** The reference CLI's flag spellings, rewritten to ours before commander parses (DESIGN §2, in brackets). */
import { describe, expect, it } from 'vitest';
import { normalizeArgv } from '../../../src/cli/argv.js';

describe('normalizeArgv', () => {
  it('accepts the reference CLI spellings as aliases, with a separate or an attached value, and stops at --', () => {
    expect(normalizeArgv(['--region_clusters', 'us-east-1=a', '--api_key=K', '--noninteractive', '--custom_filter_pattern', 'p', '--', '--api_key'])).toEqual([
      '--region-clusters', 'us-east-1=a', '--api-key=K', '--non-interactive', '--filter-pattern', 'p', '--', '--api_key',
    ]);
  });

  it('rewrites only the flag of an attached value, whatever the value holds', () => {
    expect(normalizeArgv(['--existing_ca_iam_role_external_id=a=b_c', '--tag', 'team=a_b', '--nocolor'])).toEqual(['--existing-ca-external-id=a=b_c', '--tag', 'team=a_b', '--no-color']);
  });
});
