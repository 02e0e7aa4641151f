import { packageVersion } from '../../util/package.js';
import type { RouteModule } from '../context.js';
import { appFeatures } from '../features.js';

/**
 * GET /api/session: what the page needs before anything else:
 * `{ readOnly: boolean, version: string, features: { telegram: boolean, gpt: boolean } }`
 * (features: the integrations the app uses, whose pages the dashboard shows).
 */
export const sessionRoutes: RouteModule = (api, deps) => {
  api.get('/session', async (c) =>
    c.json({
      readOnly: deps.readOnly,
      version: packageVersion(),
      features: await appFeatures(deps.app),
    }),
  );
};
