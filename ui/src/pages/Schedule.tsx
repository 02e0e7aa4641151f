import { getJson } from '../api';
import { ErrorNote } from '../components/ErrorNote';
import { Loading } from '../components/Loading';
import { formatTime } from '../format';
import { usePoll } from '../poll';
import type { ScheduleEntry } from '../types';

/** The schedule of jobsmith.config.ts, with each entry's next runs. */
export function Schedule() {
  const { data, error } = usePoll(() => getJson<ScheduleEntry[]>('schedule'), 'schedule', 30_000);
  return (
    <>
      <h1>Schedule</h1>
      <ErrorNote error={error} />
      {!data && !error && <Loading />}
      {data && data.length === 0 && <p class="muted">No entry is scheduled.</p>}
      {data && data.length > 0 && (
        <table aria-label="Schedule">
          <thead>
            <tr>
              <th>Name</th>
              <th>Cron</th>
              <th>Runs</th>
              <th>Next runs</th>
            </tr>
          </thead>
          <tbody>
            {data.map((e) => (
              <tr key={e.name}>
                <td>
                  {e.name}
                  {e.description && <div class="muted">{e.description}</div>}
                </td>
                <td>
                  <code>{e.cron}</code>
                  {e.timezone && <div class="muted">{e.timezone}</div>}
                </td>
                <td>
                  {e.action.type === 'job' ? (
                    <>
                      job <code>{e.action.job}</code> on {e.action.queue}
                    </>
                  ) : (
                    <code>run {e.action.command}</code>
                  )}
                </td>
                <td>{e.next.slice(0, 3).map(formatTime).join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
