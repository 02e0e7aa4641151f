import { getJson } from '../api';
import { Badge } from '../components/Badge';
import { ErrorNote } from '../components/ErrorNote';
import { Field, FilterForm } from '../components/FilterForm';
import { Loading } from '../components/Loading';
import { Pager } from '../components/Pager';
import { firstLine, formatCount, formatMs, formatTime } from '../format';
import { usePoll } from '../poll';
import { hrefOf, navigate, type Route } from '../route';
import type { GptRequest, Page } from '../types';

/** GPT requests made by jobs: model, status, tokens, latency, error. */
export function Gpt({ route }: { route: Route }) {
  const status = route.query.get('status') ?? undefined;
  const after = route.query.get('after') ?? undefined;
  const { data, error } = usePoll(
    () => getJson<Page<'requests', GptRequest>>('gpt/requests', { status, after }),
    JSON.stringify([status, after]),
  );
  return (
    <>
      <h1>GPT requests</h1>
      <FilterForm label="Find requests" apply={(v) => navigate('gpt', v)}>
        <Field name="status" label="Status" value={status ?? null} placeholder="failed" />
      </FilterForm>
      <ErrorNote error={error} />
      {!data && !error && <Loading />}
      {data && data.requests.length === 0 && <p class="muted">No request matches.</p>}
      {data && data.requests.length > 0 && (
        <table aria-label="GPT requests">
          <thead>
            <tr>
              <th>Id</th>
              <th>Job</th>
              <th>Model</th>
              <th>Status</th>
              <th class="num">Tokens in / out</th>
              <th>Latency</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {data.requests.map((r) => (
              <tr key={r.id}>
                <td>{r.id}</td>
                <td>
                  {r.jobId ? (
                    <a href={hrefOf(`jobs/${encodeURIComponent(r.jobId)}`)}>{r.jobId}</a>
                  ) : (
                    '–'
                  )}
                </td>
                <td>{r.model}</td>
                <td>
                  <Badge value={r.status} />
                  {r.error && <div class="muted">{firstLine(r.error, 80)}</div>}
                </td>
                <td class="num">
                  {formatCount(r.promptTokens)} / {formatCount(r.completionTokens)}
                </td>
                <td>{formatMs(r.latencyMs)}</td>
                <td>{formatTime(r.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager
        next={data?.next}
        after={after}
        go={(next) => navigate('gpt', { status, after: next })}
      />
    </>
  );
}
