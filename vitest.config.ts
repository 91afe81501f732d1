import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: process.env.EARLY_PHASE_SLOW ? [] : ['test/slow/**'],
    pool: 'forks',
    // lavapipe already spreads each dispatch over every core; two files at a time is plenty.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
