import { getJson } from '../api';
import { Badge } from '../components/Badge';
import { ErrorNote } from '../components/ErrorNote';
import { Loading } from '../components/Loading';
import { formatCount, formatMs } from '../format';
import { usePoll } from '../poll';
import { hrefOf } from '../route';
import type { WorkerRow } from '../types';

/** Running workers (every `queue:work`): queues, uptime, heartbeat, counts, current jobs. */
export function Workers() {
  const { data, error } = usePoll(() => getJson<WorkerRow[]>('workers'), 'workers');
  return (
    <>
      <h1>Workers</h1>
      <ErrorNote error={error} />
      {!data && !error && <Loading />}
      {data && data.length === 0 && <p class="muted">No worker is registered.</p>}
      {data && data.length > 0 && (
        <table aria-label="Workers">
          <thead>
            <tr>
              <th>Name</th>
              <th>Host / PID</th>
              <th>Queues</th>
              <th class="num">Concurrency</th>
              <th>Uptime</th>
              <th>Heartbeat</th>
              <th class="num">Processed</th>
              <th class="num">Failed</th>
              <th>Current jobs</th>
            </tr>
          </thead>
          <tbody>
            {data.map((w) => (
              <tr key={w.id}>
                <td>{w.name}</td>
                <td>
                  {w.host} / {w.pid}
                </td>
                <td>{w.queues.join(', ')}</td>
                <td class="num">{w.concurrency}</td>
                <td>{formatMs(w.uptime_ms)}</td>
                <td>
                  {formatMs(w.heartbeat_age_ms)} ago {w.stale && <Badge value="stale" />}
                </td>
                <td class="num">{formatCount(w.processed)}</td>
                <td class="num">{formatCount(w.failed)}</td>
                <td>
                  {w.current_jobs.length === 0
                    ? '–'
                    : w.current_jobs.map((j) => (
                        <a
                          key={j.id}
                          class="chip"
                          href={hrefOf(`jobs/${encodeURIComponent(j.id)}`)}
                        >
                          {j.name}
                        </a>
                      ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
