import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e files each start their own moto server; two cores, so keep parallelism modest.
    maxWorkers: 2,
    minWorkers: 1,
    // The SDK's Node 20 deprecation notice is noise in test output (the product silences it too).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
