import { getJson } from '../api';
import { Badge } from '../components/Badge';
import { ErrorNote } from '../components/ErrorNote';
import { Choice, Field, FilterForm } from '../components/FilterForm';
import { Loading } from '../components/Loading';
import { Pager } from '../components/Pager';
import { formatTime } from '../format';
import { usePoll } from '../poll';
import { hrefOf, navigate, type Route } from '../route';
import type { LiveJob, Page, QueueRow } from '../types';

const STATES = ['pending', 'delayed', 'reserved', 'finished'] as const;

interface HistoryRow {
  id: string;
  name: string;
  queue: string;
  status: string;
  attempts: number;
  tags: string[];
  finished_at: string;
  runtime_ms: number | null;
}

type Row = {
  id: string;
  name: string;
  queue: string;
  status: string;
  attempts: number;
  tags: string[];
  time: string;
};

/**
 * Jobs of one queue by state (live ones from the queue, finished ones from the history), found
 * by tag or name, a page at a time.
 */
export function Jobs({ route }: { route: Route }) {
  const q = route.query;
  const filters = {
    queue: q.get('queue') ?? undefined,
    state: q.get('state') ?? 'pending',
    tag: q.get('tag') ?? undefined,
    name: q.get('name') ?? undefined,
  };
  const after = q.get('after') ?? undefined;
  const queues = usePoll(() => getJson<QueueRow[]>('queues'), 'queues', 30_000);
  const queue = filters.queue ?? queues.data?.[0]?.queue;
  const { data, error } = usePoll(
    () => (queue ? loadJobs({ ...filters, queue, after }) : Promise.resolve(undefined)),
    JSON.stringify([queue, filters, after]),
  );
  const go = (next?: string) => navigate('jobs', { ...filters, queue, after: next });

  return (
    <>
      <h1>Jobs</h1>
      <FilterForm label="Find jobs" apply={(v) => navigate('jobs', v)}>
        <Choice
          name="queue"
          label="Queue"
          value={queue}
          options={(queues.data ?? []).map((r) => r.queue)}
        />
        <Choice name="state" label="State" value={filters.state} options={[...STATES]} />
        <Field name="tag" label="Tag" value={filters.tag ?? null} placeholder="user:42" />
        <Field name="name" label="Job name" value={filters.name ?? null} placeholder="mail.send" />
      </FilterForm>
      <ErrorNote error={error ?? queues.error} />
      {!queue && queues.data && <p class="muted">No queue holds jobs yet.</p>}
      {queue && !data && !error && <Loading />}
      {data && (
        <JobTable rows={data.rows} finished={filters.state === 'finished'} more={!!data.next} />
      )}
      <Pager next={data?.next} after={after} go={go} />
    </>
  );
}

async function loadJobs(f: {
  queue: string;
  state: string;
  tag?: string;
  name?: string;
  after?: string;
}) {
  if (f.state === 'finished') {
    const page = await getJson<Page<'jobs', HistoryRow>>('history', {
      queue: f.queue,
      tag: f.tag,
      name: f.name,
      after: f.after,
    });
    const rows: Row[] = page.jobs.map((j) => ({ ...j, time: j.finished_at }));
    return { rows, next: page.next };
  }
  const page = await getJson<Page<'jobs', LiveJob>>('jobs', f);
  const rows: Row[] = page.jobs.map((j) => ({
    ...j,
    status: j.state,
    time: j.state === 'pending' ? j.created_at : j.available_at,
  }));
  return { rows, next: page.next };
}

/**
 * A page is read from a bounded stretch of the queue (issue 17: no request scans it all), so a
 * filter that matches rarely can give a short or empty page that still has a next one.
 */
function JobTable(props: { rows: Row[]; finished: boolean; more: boolean }) {
  const { rows, finished, more } = props;
  if (rows.length === 0) {
    return more ? (
      <p class="muted">No matches in this stretch of the queue; Next page looks further.</p>
    ) : (
      <p class="muted">No job matches.</p>
    );
  }
  return (
    <table aria-label="Jobs">
      <thead>
        <tr>
          <th>Id</th>
          <th>Job</th>
          <th>State</th>
          <th class="num">Attempts</th>
          <th>Tags</th>
          <th>{finished ? 'Finished' : 'Time'}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((j) => (
          <tr key={j.id}>
            <td>
              <a href={hrefOf(`jobs/${encodeURIComponent(j.id)}`)}>{j.id}</a>
            </td>
            <td>{j.name}</td>
            <td>
              <Badge value={j.status} />
            </td>
            <td class="num">{j.attempts}</td>
            <td>{j.tags.join(', ')}</td>
            <td>{formatTime(j.time)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
