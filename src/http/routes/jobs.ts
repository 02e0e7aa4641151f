import { jobJson } from '../../queue/admin/present.js';
import { showJob, shownJobJson } from '../../queue/admin/show.js';
import { InvalidCursorError, type JobState } from '../../queue/driver.js';
import type { RouteModule } from '../context.js';
import { cursorParam, encodeCursor, stringCursor } from '../cursor.js';
import { badParam, notFound } from '../errors.js';
import { jobNameParam, queueParam, tagParam } from '../filters.js';
import { choiceParam, limitParam, MAX_PARAM_LENGTH, onlyParams } from '../params.js';

const STATES: readonly JobState[] = ['pending', 'delayed', 'reserved'];

/**
 * GET /api/jobs?queue=Q&state=pending|delayed|reserved&tag=T&name=N&limit=50&after=CURSOR:
 * a queue's live jobs by keyset, `{ jobs: jobJson[], next: cursor | null }` (jobJson is
 * `queue:list --json`'s row). `queue` is required. A request reads a bounded window of the
 * queue, so a page may be short, or empty, and still have a `next` (QueueDriver.listPage).
 *
 * GET /api/jobs/{id}: the `queue:show ID --json` object: a live job, or a finished one from the
 * history with its timeline; 404 when no job has the id.
 */
export const jobRoutes: RouteModule = (api, deps) => {
  api.get('/jobs', async (c) => {
    onlyParams(c, ['queue', 'state', 'tag', 'name', 'limit', 'after']);
    const queue = queueParam(c, 'queue', true)!;
    const query = {
      state: choiceParam(c, 'state', STATES),
      tag: tagParam(c),
      name: jobNameParam(c),
      limit: limitParam(c),
      after: cursorParam(c, stringCursor),
    };
    const driver = await deps.app.queues().get(deps.connection);
    try {
      const page = await driver.listPage(queue, query);
      return c.json({
        jobs: page.jobs.map(jobJson),
        next: page.next === null ? null : encodeCursor(c, page.next),
      });
    } catch (error) {
      if (error instanceof InvalidCursorError) {
        throw badParam('after', c.req.query('after') ?? '', 'the `next` cursor of the page before');
      }
      throw error;
    }
  });

  api.get('/jobs/:id', async (c) => {
    onlyParams(c, []);
    const id = c.req.param('id');
    if (id.length > MAX_PARAM_LENGTH) throw notFound(`No job with id "${id.slice(0, 40)}…".`);
    const driver = await deps.app.queues().get(deps.connection);
    const job = await showJob(driver, (await deps.app.db()).knex, id);
    if (!job) throw notFound(`No job with id "${id}" on the ${driver.connection} connection.`);
    return c.json(shownJobJson(job));
  });
};
