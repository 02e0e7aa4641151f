import { getJson } from '../api';
import { Badge } from '../components/Badge';
import { ErrorNote } from '../components/ErrorNote';
import { Field, FilterForm } from '../components/FilterForm';
import { Loading } from '../components/Loading';
import { Pager } from '../components/Pager';
import { firstLine, formatTime } from '../format';
import { usePoll } from '../poll';
import { navigate, type Route } from '../route';
import type { Page, TelegramMessage } from '../types';

/** Telegram messages scheduled with `telegram:schedule`, by status. */
export function Telegram({ route }: { route: Route }) {
  const status = route.query.get('status') ?? undefined;
  const after = route.query.get('after') ?? undefined;
  const { data, error } = usePoll(
    () => getJson<Page<'messages', TelegramMessage>>('telegram/scheduled', { status, after }),
    JSON.stringify([status, after]),
  );
  return (
    <>
      <h1>Telegram messages</h1>
      <FilterForm label="Find messages" apply={(v) => navigate('telegram', v)}>
        <Field name="status" label="Status" value={status ?? null} placeholder="pending" />
      </FilterForm>
      <ErrorNote error={error} />
      {!data && !error && <Loading />}
      {data && data.messages.length === 0 && <p class="muted">No message matches.</p>}
      {data && data.messages.length > 0 && (
        <table aria-label="Telegram messages">
          <thead>
            <tr>
              <th>Id</th>
              <th>Bot / chat</th>
              <th>Message</th>
              <th>Send at</th>
              <th>Status</th>
              <th>Sent</th>
            </tr>
          </thead>
          <tbody>
            {data.messages.map((m) => (
              <tr key={m.id}>
                <td>{m.id}</td>
                <td>
                  {m.bot} / {m.chatId}
                </td>
                <td>
                  {firstLine(typeof m.params.text === 'string' ? m.params.text : m.method, 60)}
                </td>
                <td>{formatTime(m.sendAt)}</td>
                <td>
                  <Badge value={m.status} />
                  {m.error && <div class="muted">{firstLine(m.error, 80)}</div>}
                </td>
                <td>{formatTime(m.sentAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager
        next={data?.next}
        after={after}
        go={(next) => navigate('telegram', { status, after: next })}
      />
    </>
  );
}
