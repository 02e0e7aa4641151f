import { packageVersion } from '../../util/package.js';
import type { RouteModule } from '../context.js';
import { csrfToken } from '../security.js';

/**
 * GET /api/session: what the page needs before anything else:
 * `{ readOnly: boolean, version: string, csrfToken: string }` (csrfToken: the X-CSRF-Token a
 * browser's writes carry, src/http/security.ts).
 */
export const sessionRoutes: RouteModule = (api, deps) => {
  api.get('/session', (c) =>
    c.json({ readOnly: deps.readOnly, version: packageVersion(), csrfToken: csrfToken(deps) }),
  );
};
