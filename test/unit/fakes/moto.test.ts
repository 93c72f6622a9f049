/** The moto harness without moto: environment isolation and the skip/fail rule. The moto-backed half is test/e2e/fakes.moto.test.ts. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { awsTestEnv, isolatedAwsEnv } from '../../fakes/moto.js';

describe('awsTestEnv / isolatedAwsEnv', () => {
  it('points the SDK at the endpoint with dummy credentials and no real profile', () => {
    const env = awsTestEnv('http://127.0.0.1:1234');
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1234',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    expect(env).not.toHaveProperty('AWS_PROFILE');
    expect(env.AWS_CONFIG_FILE).toBeTruthy();
    expect(env.AWS_SHARED_CREDENTIALS_FILE).toBeTruthy();
  });

  it('drops every inherited AWS_* variable', () => {
    const env = isolatedAwsEnv('http://127.0.0.1:1', {
      PATH: '/bin',
      AWS_PROFILE: 'prod',
      AWS_SESSION_TOKEN: 'x',
      AWS_DEFAULT_PROFILE: 'prod',
    });
    expect(env.PATH).toBe('/bin');
    expect(env).not.toHaveProperty('AWS_PROFILE');
    expect(env).not.toHaveProperty('AWS_SESSION_TOKEN');
    expect(env).not.toHaveProperty('AWS_DEFAULT_PROFILE');
    expect(env.AWS_ACCESS_KEY_ID).toBe('testing');
  });
});

describe('requireMotoOrSkip without moto', () => {
  /** Run requireMotoOrSkip() twice in a fresh process whose python3 does not exist. */
  const probe = (ci: boolean) => {
    const env: NodeJS.ProcessEnv = { ...process.env, MOTO_PYTHON: '/nonexistent/python3' };
    // Not the run's shared servers either (they would answer for moto).
    delete env.FEA_MOTO_POOL;
    delete env.CI;
    if (ci) env.CI = 'true';
    const script =
      "import { requireMotoOrSkip } from './test/fakes/moto.ts';" +
      "console.log('first=' + requireMotoOrSkip()); console.log('second=' + requireMotoOrSkip());";
    return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env,
      encoding: 'utf8',
    });
  };

  it('locally: skips with one loud line on stderr', () => {
    const r = probe(false);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('first=false');
    expect(r.stdout).toContain('second=false');
    const loud = r.stderr.split('\n').filter((l) => l.includes('SKIPPING e2e'));
    expect(loud).toHaveLength(1);
    expect(loud[0]).toContain('pip install "moto[server]==5.2.1"');
  });

  it('in CI: throws', () => {
    const r = probe(true);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('moto_server is required in CI: pip install "moto[server]==5.2.1"');
  });
});
