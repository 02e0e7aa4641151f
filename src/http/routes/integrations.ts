import { appFeatures, type Features } from '../features.js';
import type { DashboardDeps, RouteModule } from '../context.js';
import { cursorParam, encodeCursor, idCursor } from '../cursor.js';
import { HttpError } from '../errors.js';
import { choiceParam, limitParam, onlyParams } from '../params.js';

/**
 * The integrations' tables, when the app uses them (else 404 code `not_configured`). Their
 * modules load at the first request (the core loads no integration statically).
 *
 * GET /api/gpt/requests?status&limit&after: `{ requests: [gpt:requests --json rows], next }`,
 * newest first.
 *
 * GET /api/telegram/scheduled?status&limit&after: `{ messages: [telegram:scheduled --json
 * rows], next }`: pending and queued ones the next to go first, otherwise the latest first.
 */
export const integrationRoutes: RouteModule = (api, deps) => {
  api.get('/gpt/requests', async (c) => {
    onlyParams(c, ['status', 'limit', 'after']);
    await requireFeature(deps, 'gpt', 'GPT is not configured: set OPENAI_API_KEY (docs/gpt.md).');
    const [{ listRequests, REQUEST_STATUSES }, { requestJson }] = await Promise.all([
      import('../../gpt/requests-store.js'),
      import('../../gpt/present.js'),
    ]);
    const status = choiceParam(c, 'status', REQUEST_STATUSES);
    const limit = limitParam(c);
    const beforeId = cursorParam(c, idCursor);
    const rows = await listRequests(await deps.app.db(), { status, limit: limit + 1, beforeId });
    const page = rows.slice(0, limit);
    const next = rows.length > limit ? encodeCursor(c, page[page.length - 1]!.id) : null;
    return c.json({ requests: page.map(requestJson), next });
  });

  api.get('/telegram/scheduled', async (c) => {
    onlyParams(c, ['status', 'limit', 'after']);
    await requireFeature(
      deps,
      'telegram',
      'Telegram is not configured: add a `telegram` section to jobsmith.config.ts (docs/telegram.md).',
    );
    const [{ listScheduled, SCHEDULED_STATUSES }, { scheduledJson }] = await Promise.all([
      import('../../telegram/scheduled-store.js'),
      import('../../telegram/present.js'),
    ]);
    const status = choiceParam(c, 'status', SCHEDULED_STATUSES);
    const limit = limitParam(c);
    const after = cursorParam(c, readScheduledKey);
    const rows = await listScheduled(await deps.app.db(), { status, limit: limit + 1, after });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const next = rows.length > limit && last ? encodeCursor(c, [last.sendAt, last.id]) : null;
    return c.json({ messages: page.map(scheduledJson), next });
  });
};

async function requireFeature(deps: DashboardDeps, name: keyof Features, message: string) {
  if (!(await appFeatures(deps.app))[name]) throw new HttpError(404, 'not_configured', message);
}

function readScheduledKey(value: unknown): { sendAt: number; id: number } | undefined {
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [sendAt, id] = value as unknown[];
  const whole = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n);
  return whole(sendAt) && whole(id) ? { sendAt, id } : undefined;
}
