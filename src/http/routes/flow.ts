import { breakerJson } from '../../flow/breakers/present.js';
import { breakerReport } from '../../flow/breakers/report.js';
import { limitsReport } from '../../flow/rate-limits/report.js';
import type { RouteModule } from '../context.js';
import { intParam, onlyParams } from '../params.js';

/**
 * GET /api/breakers: `breaker:list --json`, each circuit breaker the jobs declare or the
 * storage holds: `[{ name, state, probing, failures, window_started_at, opened_at, until,
 * settings, jobs }]`.
 *
 * GET /api/limits?top=10: `limits:list --json --top N`, each rate limit of the config with its
 * busiest keys (N from 1 to 1000, default 10); [] without rate limits.
 */
export const flowRoutes: RouteModule = (api, deps) => {
  api.get('/breakers', async (c) => {
    onlyParams(c, []);
    // The registry, not the config's jobs: built-in jobs (gpt.complete) declare breakers too.
    const jobs = (await deps.app.registry()).all();
    const driver = await deps.app.queues().get(deps.connection);
    const report = await breakerReport(jobs, driver.flow().breakers);
    return c.json(report.map(breakerJson));
  });

  api.get('/limits', async (c) => {
    onlyParams(c, ['top']);
    const top = intParam(c, 'top', { min: 1, max: 1000, default: 10 })!;
    const { rateLimits } = await deps.app.config();
    if (rateLimits.size === 0) return c.json([]);
    const driver = await deps.app.queues().get(deps.connection);
    return c.json(await limitsReport(driver.flow().rateLimits, rateLimits, top));
  });
};
