import { packageVersion } from '../../util/package.js';
import type { RouteModule } from '../context.js';

/**
 * GET /api/session: what the page needs before anything else:
 * `{ readOnly: boolean, version: string }`.
 */
export const sessionRoutes: RouteModule = (api, deps) => {
  api.get('/session', (c) => c.json({ readOnly: deps.readOnly, version: packageVersion() }));
};
