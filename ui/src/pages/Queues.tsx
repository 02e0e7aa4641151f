import { getJson } from '../api';
import { ErrorNote } from '../components/ErrorNote';
import { Loading } from '../components/Loading';
import { usePoll } from '../poll';
import type { QueueRow } from '../types';
import { QueueTable } from './QueueTable';

/** Every queue of the connection; a paused queue's jobs wait until it is resumed. */
export function Queues() {
  const { data, error, reload } = usePoll(() => getJson<QueueRow[]>('queues'), 'queues');
  return (
    <>
      <h1>Queues</h1>
      <ErrorNote error={error} />
      {data ? <QueueTable queues={data} reload={reload} /> : !error && <Loading />}
    </>
  );
}
