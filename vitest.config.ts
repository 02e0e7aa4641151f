import { configDefaults, defineConfig } from 'vitest/config';

// Two projects, one run, one summary:
//
// - `parallel`: every file isolates its external state (fresh database via
//   createTestDatabase(), unique Redis key prefix via redisPrefix(), own temp dir), so two
//   forked workers run files side by side.
// - `serial`: files named `*.serial.test.ts` stop and restart servers of their own (a
//   PostgreSQL cluster, a redis-server, never the shared ones): slow and timing-sensitive, so
//   they run one at a time and only after the parallel group has finished
//   (`sequence.groupOrder`), never next to another file.
export default defineConfig({
  test: {
    globalSetup: ['test/setup/services.ts'],
    reporters: ['default', './test/setup/summary-reporter.ts'],
    pool: 'forks',
    // Worker counts are run-wide in vitest 3.2 (not per project): two forks for the parallel
    // group; the serial project pins itself to a single fork below.
    fileParallelism: true,
    minWorkers: 1,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'parallel',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, '**/*.serial.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'serial',
          include: ['test/**/*.serial.test.ts'],
          // One fork runs every serial file, one after another.
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 120_000,
          hookTimeout: 90_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
