import { defineConfig } from 'vitest/config';

// Test kinds are separate projects so each can run alone: `npm run test:unit|int|e2e`.
// Integration and end-to-end files each start their own nats-server, so files run in
// parallel across forks but each file's cases run in order.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/**/*.unit.test.ts'] } },
      { test: { name: 'int', include: ['test/**/*.int.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 } },
      { test: { name: 'e2e', include: ['test/**/*.e2e.test.ts'], testTimeout: 120_000, hookTimeout: 60_000 } },
    ],
  },
});
