import { getJson } from '../api';
import { Chart } from '../components/Chart';
import { ErrorNote } from '../components/ErrorNote';
import { Loading } from '../components/Loading';
import { Stat } from '../components/Stat';
import { usePoll } from '../poll';
import type { Overview as OverviewData } from '../types';
import { QueueTable } from './QueueTable';

/** Throughput, runtime and failures of the last hour (the metrics store), and the queues. */
export function Overview() {
  const { data, error, reload } = usePoll(
    () => getJson<OverviewData>('overview', { since: '1h' }),
    'overview',
  );
  return (
    <>
      <h1>Overview</h1>
      <ErrorNote error={error} />
      {!data && !error && <Loading />}
      {data && (
        <>
          <div class="stats" aria-label="Last hour">
            <Stat name="processed" label="Processed (1 h)" value={data.totals.processed} />
            <Stat name="succeeded" label="Succeeded (1 h)" value={data.totals.succeeded} />
            <Stat name="failed-1h" label="Failed (1 h)" value={data.totals.failed} tone="bad" />
            <Stat name="retried" label="Retried (1 h)" value={data.totals.retried} />
            <Stat name="failed" label="Failed jobs stored" value={data.failed} tone="bad" />
            <Stat name="workers" label="Workers" value={data.workers} />
          </div>
          <Charts data={data} />
          <h2>Queues</h2>
          <QueueTable queues={data.queues} reload={reload} />
        </>
      )}
    </>
  );
}

function Charts({ data }: { data: OverviewData }) {
  const times = data.series.map((p) => Date.parse(p.minute) / 1000);
  return (
    <div class="charts">
      <Chart
        title="Throughput per minute"
        times={times}
        series={[
          { label: 'processed', color: '#2563eb', values: data.series.map((p) => p.processed) },
          { label: 'succeeded', color: '#16a34a', values: data.series.map((p) => p.succeeded) },
        ]}
      />
      <Chart
        title="Runtime"
        unit="ms"
        times={times}
        series={[
          { label: 'average', color: '#7c3aed', values: data.series.map((p) => p.runtimeAvgMs) },
          { label: 'p95', color: '#db2777', values: data.series.map((p) => p.runtimeP95Ms) },
        ]}
      />
      <Chart
        title="Failures per minute"
        times={times}
        series={[{ label: 'failed', color: '#dc2626', values: data.series.map((p) => p.failed) }]}
      />
    </div>
  );
}
