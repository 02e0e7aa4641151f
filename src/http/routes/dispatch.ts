import type { Context } from 'hono';
import { dateFlag, durationFlag, priorityFlag, tagsFlag, triesFlag } from '../../cli/command.js';
import { nearest } from '../../cli/suggest.js';
import { ConfigError } from '../../errors.js';
import { InvalidDispatchError, InvalidPayloadError } from '../../jobs/errors.js';
import { prepareJob } from '../../jobs/prepare.js';
import type { DispatchOptions } from '../../jobs/types.js';
import type { NewJob } from '../../queue/driver.js';
import { queueFlag } from '../../queue/names.js';
import { jsonBody, limitBody } from '../body.js';
import type { RouteModule } from '../context.js';
import { HttpError } from '../errors.js';
import { onlyParams, stringParam } from '../params.js';
import { fromUsage } from '../usage.js';

/**
 * POST /api/jobs/{name}: dispatches one job, as `run queue:dispatch NAME --payload JSON` does.
 * The body is the payload (JSON, at most 1 MiB); the options are query parameters, checked as
 * the command's flags: `delay` (a duration, `30s`), `at` (ISO 8601; not with delay), `queue`,
 * `priority` (whole number), `tries`, `tag` (repeat for more; `tags` is the same).
 *
 * 201 `{ id, name, queue, deduplicated }` (deduplicated: a unique job whose key was held, `id`
 * is the holder's); 404 `unknown_job` naming the nearest registered name; 422 `invalid_payload`
 * with the schema's message; 400 a bad option or a body that is not JSON.
 */
export const dispatchRoutes: RouteModule = (api, deps) => {
  api.post('/jobs/:name', limitBody, async (c) => {
    const name = c.req.param('name');
    const registry = await deps.app.registry();
    const job = registry.get(name);
    if (!job) {
      const guess = nearest(name, registry.names());
      throw new HttpError(
        404,
        'unknown_job',
        `Unknown job "${name}".${guess ? ` Did you mean "${guess}"?` : ''} Jobs are registered in jobsmith.config.ts.`,
      );
    }
    const options = dispatchOptions(c);
    const payload = await jsonBody(c, undefined);
    if (payload === undefined) {
      throw new HttpError(
        400,
        'bad_request',
        `The body is the job's payload, as JSON; it is empty.`,
      );
    }
    let row: NewJob;
    try {
      row = prepareJob(job, payload, options);
    } catch (error) {
      if (error instanceof InvalidPayloadError) {
        throw new HttpError(422, 'invalid_payload', error.message);
      }
      if (error instanceof InvalidDispatchError) {
        throw new HttpError(400, 'bad_request', error.message);
      }
      // An encrypted job and no APP_KEY: the server's setup, which the caller cannot fix.
      if (error instanceof ConfigError) {
        throw new HttpError(503, 'not_configured', `${error.message} ${error.hint ?? ''}`.trim());
      }
      throw error;
    }
    const [result] = await deps.app.dispatcher().push([row], deps.connection ?? job.connection);
    deps.snapshot.refreshSoon();
    return c.json(
      { id: result!.id, name: job.name, queue: row.queue, deduplicated: result!.deduplicated },
      201,
    );
  });
};

/** The query's options, each checked as queue:dispatch checks its flag of the same name. */
function dispatchOptions(c: Context): DispatchOptions {
  onlyParams(c, ['delay', 'at', 'queue', 'priority', 'tries', 'tag', 'tags']);
  const value = (name: string) => stringParam(c, name);
  const options: DispatchOptions = {};
  const delay = value('delay');
  const at = value('at');
  if (delay !== undefined && at !== undefined) {
    throw new HttpError(
      400,
      'bad_request',
      'delay and at: give one, not both (delay waits from now; at names the moment).',
    );
  }
  if (delay !== undefined) {
    options.delay = fromUsage(() =>
      durationFlag('delay', { allowZero: true, stored: true })(delay),
    );
  }
  if (at !== undefined) options.at = fromUsage(() => dateFlag('at')(at));
  const queue = value('queue');
  if (queue !== undefined) options.queue = fromUsage(() => queueFlag('queue')(queue));
  const priority = value('priority');
  if (priority !== undefined)
    options.priority = fromUsage(() => priorityFlag('priority')(priority));
  const tries = value('tries');
  if (tries !== undefined) options.tries = fromUsage(() => triesFlag('tries')(tries));
  const tags = [...(c.req.queries('tag') ?? []), ...(c.req.queries('tags') ?? [])];
  if (tags.length > 0) {
    options.tags = fromUsage(() =>
      tags.reduce<string[] | undefined>((all, tag) => tagsFlag('tag')(tag, all), undefined),
    );
  }
  return options;
}
