import { createRequire } from 'node:module';

const nodeRequire = createRequire(import.meta.url);

/**
 * Loads one of the CommonJS packages the storage drivers use (knex, pg, better-sqlite3,
 * ioredis, bullmq) with Node's own `require`, and returns its `module.exports` typed as `T`.
 *
 * Why not `import`: application code may run under ESM loader hooks (`node --import
 * jiti/register`, tsx), and an `import` sends the package and every file it requires through
 * those hooks. jiti's hooks transpile each CommonJS file again on every start (knex alone took
 * 7 s instead of 0.3 s) and, on Node 20, break a CommonJS file that calls `import()`: bullmq's
 * child-processor failed with ERR_VM_MODULE_LINK_FAILURE, so dispatching on Redis crashed.
 * `require` is not routed through those hooks, so the drivers load the same way whatever runs
 * the app, and every file of ours shares one instance of each package.
 */
export function requireNative<T>(id: string): T {
  return nodeRequire(id) as T;
}
