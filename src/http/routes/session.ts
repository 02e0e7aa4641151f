import { packageVersion } from '../../util/package.js';
import type { RouteModule } from '../context.js';
import { appFeatures } from '../features.js';
import { csrfToken } from '../security.js';

/**
 * GET /api/session: what the page needs before anything else:
 * `{ readOnly: boolean, version: string, csrfToken: string, features: { telegram: boolean,
 * gpt: boolean } }` (csrfToken: the X-CSRF-Token a browser's writes carry, src/http/security.ts;
 * features: the integrations the app uses, whose pages the dashboard shows).
 */
export const sessionRoutes: RouteModule = (api, deps) => {
  api.get('/session', async (c) =>
    c.json({
      readOnly: deps.readOnly,
      version: packageVersion(),
      csrfToken: csrfToken(deps),
      features: await appFeatures(deps.app),
    }),
  );
};
