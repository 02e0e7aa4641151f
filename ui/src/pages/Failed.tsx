import { useState } from 'preact/hooks';
import { getJson, postJson } from '../api';
import { ActionButton } from '../components/ActionButton';
import { ErrorNote } from '../components/ErrorNote';
import { Field, FilterForm } from '../components/FilterForm';
import { Loading } from '../components/Loading';
import { Pager } from '../components/Pager';
import { firstLine, formatTime } from '../format';
import { usePoll } from '../poll';
import { hrefOf, navigate, type Route } from '../route';
import type { FailedJob, Page } from '../types';

/**
 * Failed jobs, newest first, with their errors: retry one, forget one, or retry every failed job
 * of the filter's queue and name (the server goes through them a page at a time).
 */
export function Failed({ route }: { route: Route }) {
  const q = route.query;
  const filters = {
    queue: q.get('queue') ?? undefined,
    name: q.get('name') ?? undefined,
    search: q.get('search') ?? undefined,
  };
  const after = q.get('after') ?? undefined;
  const { data, error, reload } = usePoll(
    () => getJson<Page<'jobs', FailedJob>>('failed', { ...filters, after }),
    JSON.stringify([filters, after]),
  );
  const [retried, setRetried] = useNote();
  const scope = [filters.queue && `queue ${filters.queue}`, filters.name && `job ${filters.name}`]
    .filter(Boolean)
    .join(', ');

  return (
    <>
      <h1>Failed jobs</h1>
      <FilterForm label="Find failed jobs" apply={(v) => navigate('failed', v)}>
        <Field name="queue" label="Queue" value={filters.queue ?? null} />
        <Field name="name" label="Job name" value={filters.name ?? null} />
        <Field
          name="search"
          label="Error text"
          value={filters.search ?? null}
          placeholder="timeout"
        />
      </FilterForm>
      {data && data.jobs.length > 0 && !filters.search && (
        <div class="toolbar">
          <ActionButton
            variant="primary"
            confirm={`Retry every failed job${scope ? ` of ${scope}` : ''}?`}
            action={async () => {
              const r = await postJson<{ retried: number; skipped: number }>('failed/retry', {
                queue: filters.queue,
                name: filters.name,
              });
              setRetried(`Retried ${r.retried}${r.skipped ? `, skipped ${r.skipped}` : ''}.`);
            }}
            done={reload}
            testId="retry-all"
          >
            {scope ? 'Retry all matching' : 'Retry all'}
          </ActionButton>
        </div>
      )}
      {retried && (
        <p class="note" role="status">
          {retried}
        </p>
      )}
      <ErrorNote error={error} />
      {!data && !error && <Loading />}
      {data && <FailedTable jobs={data.jobs} reload={reload} />}
      <Pager
        next={data?.next}
        after={after}
        go={(next) => navigate('failed', { ...filters, after: next })}
      />
    </>
  );
}

function useNote(): [string | undefined, (text: string) => void] {
  const [note, setNote] = useState<string | undefined>(undefined);
  return [note, setNote];
}

function FailedTable({ jobs, reload }: { jobs: FailedJob[]; reload: () => unknown }) {
  if (jobs.length === 0) return <p class="muted">No failed job matches.</p>;
  return (
    <table aria-label="Failed jobs">
      <thead>
        <tr>
          <th>Id</th>
          <th>Job</th>
          <th>Queue</th>
          <th>Failed</th>
          <th>Error</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {jobs.map((job) => (
          <tr key={job.id} data-testid={`failed-${job.id}`}>
            <td>
              {job.id}
              {/* The failed row's own id, then the job it was: its page, timeline and history. */}
              {job.original_id && (
                <>
                  {' '}
                  <a href={hrefOf(`jobs/${encodeURIComponent(job.original_id)}`)}>
                    (job {job.original_id})
                  </a>
                </>
              )}
            </td>
            <td>{job.name}</td>
            <td>{job.queue}</td>
            <td>{formatTime(job.failed_at)}</td>
            <td class="error-cell">
              <details>
                <summary>{firstLine(job.exception, 90)}</summary>
                <pre>{job.exception}</pre>
                <h4>Payload</h4>
                <pre>{job.payload}</pre>
              </details>
            </td>
            <td class="actions">
              <ActionButton
                variant="primary"
                label={`Retry failed job ${job.id}`}
                action={() => postJson(`failed/${job.id}/retry`)}
                done={reload}
              >
                Retry
              </ActionButton>
              <ActionButton
                variant="danger"
                label={`Forget failed job ${job.id}`}
                confirm="Forget it?"
                action={() => postJson(`failed/${job.id}/forget`)}
                done={reload}
              >
                Forget
              </ActionButton>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
