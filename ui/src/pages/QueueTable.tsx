import { postJson } from '../api';
import { ActionButton } from '../components/ActionButton';
import { Badge } from '../components/Badge';
import { formatCount } from '../format';
import { hrefOf } from '../route';
import type { QueueRow } from '../types';

/** Queues with their sizes, each with pause or resume (left out in read-only mode). */
export function QueueTable(props: { queues: QueueRow[]; reload: () => unknown }) {
  if (props.queues.length === 0) return <p class="muted">No queue holds jobs yet.</p>;
  return (
    <table aria-label="Queues">
      <thead>
        <tr>
          <th>Queue</th>
          <th class="num">Pending</th>
          <th class="num">Delayed</th>
          <th class="num">Running</th>
          <th class="num">Failed</th>
          <th>State</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {props.queues.map((q) => (
          <tr key={q.queue} data-testid={`queue-${q.queue}`}>
            <td>
              <a href={hrefOf('jobs', { queue: q.queue })}>{q.queue}</a>
            </td>
            <td class="num">{formatCount(q.pending)}</td>
            <td class="num">{formatCount(q.delayed)}</td>
            <td class="num">{formatCount(q.reserved)}</td>
            <td class="num">
              {q.failed > 0 ? (
                <a href={hrefOf('failed', { queue: q.queue })}>{formatCount(q.failed)}</a>
              ) : (
                '0'
              )}
            </td>
            <td>{q.paused ? <Badge value="paused" /> : <span class="muted">running</span>}</td>
            <td class="actions">
              <ActionButton
                label={`${q.paused ? 'Resume' : 'Pause'} queue ${q.queue}`}
                action={() =>
                  postJson(`queues/${encodeURIComponent(q.queue)}/${q.paused ? 'resume' : 'pause'}`)
                }
                done={props.reload}
              >
                {q.paused ? 'Resume' : 'Pause'}
              </ActionButton>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
