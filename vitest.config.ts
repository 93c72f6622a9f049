import { defineConfig } from 'vitest/config';

/** Unit test files that replace modules (vi.mock) or stub the environment: each runs in a fresh module graph. */
const MOCKING = [
  'test/unit/status.test.ts',
  'test/unit/permissions.test.ts',
  'test/unit/lacework/api.test.ts',
  'test/unit/lacework/credentials-unreadable.test.ts',
  'test/unit/provision/plan.test.ts',
  'test/unit/provision/apply.test.ts',
];

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    // Two files at a time on two cores: the e2e files are CPU-bound (CLI processes, moto); a third worker was
    // measured no faster (438 s against 432 s) and used 8% more CPU.
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          exclude: MOCKING,
          // The other unit files share one module graph per worker: the SDK is loaded once, not once a file.
          isolate: false,
        },
      },
      { extends: true, test: { name: 'unit-isolated', include: MOCKING } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], globalSetup: ['test/e2e/global-setup.ts'], testTimeout: 60_000, hookTimeout: 60_000 } },
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The SDK's Node 20 deprecation notice is noise in test output (the product silences it too).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
