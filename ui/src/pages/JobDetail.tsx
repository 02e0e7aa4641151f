import type { ComponentChildren } from 'preact';
import { ApiError, getJson, postJson } from '../api';
import { ActionButton } from '../components/ActionButton';
import { Badge } from '../components/Badge';
import { CodeBlock } from '../components/CodeBlock';
import { ErrorNote } from '../components/ErrorNote';
import { Loading } from '../components/Loading';
import { formatMs, formatTime } from '../format';
import { usePoll } from '../poll';
import { hrefOf } from '../route';
import type { AnyJob, FinishedJob, LiveJob } from '../types';

const isLive = (job: AnyJob): job is LiveJob => 'state' in job;

/** One job, whatever its state: payload, attempts, timeline, result, error with its stack. */
export function JobDetail({ id }: { id: string }) {
  const path = `jobs/${encodeURIComponent(id)}`;
  const { data, error, reload } = usePoll(() => getJson<AnyJob>(path), path);
  const gone = error instanceof ApiError && error.status === 404;
  return (
    <>
      <p class="crumbs">
        <a href={hrefOf('jobs', { queue: data?.queue })}>Jobs</a> / {id}
      </p>
      <h1>
        Job {id} {data && <small>{data.name}</small>}
      </h1>
      {gone ? (
        <p class="note">No job {id}: it is not queued, and no history or failed job keeps it.</p>
      ) : (
        <ErrorNote error={error} />
      )}
      {!data && !error && <Loading />}
      {data &&
        (isLive(data) ? <Live job={data} path={path} reload={reload} /> : <Finished job={data} />)}
    </>
  );
}

function Facts({ rows }: { rows: Array<[string, ComponentChildren]> }) {
  return (
    <dl class="facts">
      {rows.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Live({ job, path, reload }: { job: LiveJob; path: string; reload: () => unknown }) {
  return (
    <>
      <Facts
        rows={[
          ['Status', <Badge value={job.state} />],
          ['Queue', job.queue],
          ['Attempts', `${job.attempts} of ${job.max_tries}`],
          ['Priority', job.priority],
          ['Dispatched', formatTime(job.created_at)],
          [job.state === 'reserved' ? 'Lease ends' : 'Runs from', formatTime(job.available_at)],
          ['Tags', job.tags.join(', ') || '–'],
          ['Progress', job.progress === null ? '–' : JSON.stringify(job.progress)],
        ]}
      />
      <div class="toolbar">
        {job.state === 'delayed' && (
          <ActionButton action={() => postJson(`${path}/promote`)} done={reload}>
            Run now
          </ActionButton>
        )}
        <ActionButton
          variant="danger"
          confirm="Cancel this job?"
          action={() => postJson(`${path}/cancel`)}
          done={reload}
        >
          Cancel
        </ActionButton>
      </div>
      <CodeBlock label="Payload" value={job.payload} json />
      {job.last_error && <CodeBlock label="Last error" value={job.last_error} />}
    </>
  );
}

function Finished({ job }: { job: FinishedJob }) {
  return (
    <>
      <Facts
        rows={[
          ['Status', <Badge value={job.status} />],
          ['Queue', job.queue],
          ['Attempts', job.attempts],
          ['Finished', formatTime(job.finished_at)],
          ['Runtime', formatMs(job.runtime_ms)],
          ['Tags', job.tags.join(', ') || '–'],
          ['Kept in', job.source === 'history' ? 'job history' : 'failed jobs'],
        ]}
      />
      <CodeBlock label="Payload" value={job.payload} json />
      {job.result !== null && job.result !== undefined && (
        <CodeBlock label="Result" value={job.result} json />
      )}
      {job.error && <CodeBlock label="Error" value={job.error} />}
      <h2>Timeline</h2>
      <ol class="timeline" aria-label="Timeline">
        {job.timeline.map((step, i) =>
          step.event === 'dispatched' ? (
            <li key={i}>
              <time>{formatTime(step.at)}</time> dispatched
            </li>
          ) : (
            <li key={i}>
              <time>{formatTime(step.ended_at)}</time>{' '}
              {/* Attempt 0: it ended before any attempt started (cancelled while it waited). */}
              {step.attempt === 0 ? 'before it ran: ' : `attempt ${step.attempt}: `}
              <Badge value={step.outcome} />
              {step.error && <div class="muted">{step.error}</div>}
            </li>
          ),
        )}
      </ol>
    </>
  );
}
