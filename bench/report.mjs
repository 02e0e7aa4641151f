// Turns the rounds of a run into summaries and a markdown report.
import { percentile, summarize } from './lib.mjs';

const key = (r) => `${r.workload}|${JSON.stringify(r.params)}`;

/** Groups measured (non-warm-up) rounds by workload, parameters and contender. */
export function summarizeRounds(rounds) {
  const groups = new Map();
  for (const r of rounds) {
    if (r.warmup || r.error) continue;
    const k = `${key(r)}|${r.contender}`;
    if (!groups.has(k)) groups.set(k, { ...pick(r), values: [], rounds: [] });
    groups.get(k).values.push(r.value);
    groups.get(k).rounds.push(r);
  }
  return [...groups.values()].map((g) => {
    const s = { ...pick(g), ...summarize(g.values) };
    if (g.workload === 'pickup') {
      const all = g.rounds.flatMap((r) => r.latencies);
      Object.assign(s, {
        samples: all.length,
        pooled: { p50: percentile(all, 50), p95: percentile(all, 95), p99: percentile(all, 99) },
      });
    }
    if (g.rounds.some((r) => r.capped)) s.capped = true;
    if (g.workload.startsWith('memory')) {
      s.growthMb = g.rounds[0].growthMb;
      s.idleRssMb = g.rounds[0].idleRssMb;
      s.growthFrom = g.rounds[0].growthFrom;
    }
    return s;
  });
}

function pick(r) {
  return {
    workload: r.workload,
    params: r.params,
    contender: r.contender,
    unit: r.unit,
    higherIsBetter: r.higherIsBetter,
  };
}

const fmt = (x, unit) => {
  if (x === undefined || x === null || Number.isNaN(x)) return '–';
  if (unit === 'ms' || unit === 'MB') return x < 10 ? x.toFixed(2) : x.toFixed(1);
  return Math.round(x).toLocaleString('en-US');
};
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : '–');
const describe = (p) =>
  Object.entries(p)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? v.toLocaleString('en-US') : v}`)
    .join(', ');

/** The markdown report: one table per workload and parameter set, then the ratios. */
export function markdown(result) {
  const { environment: env, options, contenders, summary, skipped } = result;
  const label = Object.fromEntries(contenders.map((c) => [c.id, c.label]));
  const lines = [];
  lines.push(`# jobsmith benchmark: ${options.backend} (${env.date.slice(0, 10)})`, '');
  const m = env.machine;
  lines.push(
    `${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, ${m.os}; Node.js ${env.node}; ` +
      `load average at start ${m.loadAverageAtStart.join(' / ')}.`,
  );
  if (env.postgres) {
    const s = env.postgres.settings;
    lines.push(
      `PostgreSQL ${env.postgres.version}: synchronous_commit=${s.synchronous_commit}, fsync=${s.fsync}, ` +
        `wal_sync_method=${s.wal_sync_method}, shared_buffers=${s.shared_buffers}.`,
    );
  }
  if (env.redis) {
    const s = env.redis.settings;
    lines.push(
      `Redis ${env.redis.version}: appendonly=${s.appendonly}, appendfsync=${s.appendfsync}, save="${s.save}".`,
    );
  }
  if (env.sqlite) lines.push(`SQLite ${env.sqlite.version}: WAL, synchronous=NORMAL.`);
  lines.push(
    '',
    `Rounds: ${options.rounds} measured${options.warmup ? ' after 1 warm-up' : ''}, contenders interleaved ` +
      `(A B C A B C …). Median (min–max) over rounds; CV = coefficient of variation.` +
      (options.quick ? ' **Quick run: small sizes, for a smoke test, not for comparison.**' : ''),
    '',
  );
  lines.push('Contenders:', '');
  for (const c of contenders)
    lines.push(`- **${c.label}** (${c.peer} ${c.version}): ${c.describe}`);
  lines.push('');

  const byGroup = new Map();
  for (const s of summary) {
    const k = key(s);
    if (!byGroup.has(k)) byGroup.set(k, []);
    byGroup.get(k).push(s);
  }
  const ratioRows = [];
  const order = new Map(contenders.map((c, i) => [c.id, i]));
  for (const group of byGroup.values()) {
    group.sort((a, b) => order.get(a.contender) - order.get(b.contender));
    const { workload, params, unit, higherIsBetter } = group[0];
    lines.push(`## ${workload}${Object.keys(params).length ? `: ${describe(params)}` : ''}`, '');
    const js = group.find((s) => s.contender === 'jobsmith');
    const jp = group.find((s) => s.contender === 'jobsmith-prefetch');
    const ours = (s) => s.contender.startsWith('jobsmith');
    const better = higherIsBetter ? 'higher is better' : 'lower is better';
    if (workload === 'pickup') {
      lines.push(
        `| contender | p50 ms, median of rounds (min–max) | pooled p50 | p95 | p99 | samples | jobsmith / contender (p50, lower is better) |`,
        '|---|---:|---:|---:|---:|---:|---:|',
      );
      for (const s of group) {
        lines.push(
          `| ${label[s.contender]} | ${fmt(s.median, 'ms')} (${fmt(s.min, 'ms')}–${fmt(s.max, 'ms')}) | ` +
            `${fmt(s.pooled.p50, 'ms')} | ${fmt(s.pooled.p95, 'ms')} | ${fmt(s.pooled.p99, 'ms')} | ${s.samples} | ` +
            `${s === js ? '' : ratio(js?.median, s.median)} |`,
        );
      }
    } else if (workload === 'cold-start') {
      const node = group.find((s) => s.contender === 'node');
      lines.push('| command | median ms | min | max | × bare node |', '|---|---:|---:|---:|---:|');
      for (const s of group) {
        lines.push(
          `| ${label[s.contender]} | ${fmt(s.median, 'ms')} | ${fmt(s.min, 'ms')} | ${fmt(s.max, 'ms')} | ${ratio(s.median, node?.median)} |`,
        );
      }
    } else if (workload.startsWith('memory')) {
      lines.push(
        `| contender | idle RSS MB | RSS MB at end | growth MB (from ${fmt(group[0].growthFrom)} jobs) | jobsmith / contender (RSS at end) |`,
        '|---|---:|---:|---:|---:|',
      );
      for (const s of group) {
        const growth = s.growthFrom < s.params.jobs ? fmt(s.growthMb, 'MB') : '–';
        lines.push(
          `| ${label[s.contender]} | ${fmt(s.idleRssMb, 'MB')} | ${fmt(s.median, 'MB')} | ${growth} | ` +
            `${s === js ? '' : ratio(js?.median, s.median)} |`,
        );
      }
    } else {
      lines.push(
        `| contender | ${unit}, median | min | max | CV | jobsmith / contender (${better}) |${jp ? ` ${label[jp.contender]} / contender |` : ''}`,
        `|---|---:|---:|---:|---:|---:|${jp ? '---:|' : ''}`,
      );
      for (const s of group) {
        lines.push(
          `| ${label[s.contender]}${s.capped ? ' †' : ''} | ${fmt(s.median, unit)} | ${fmt(s.min, unit)} | ` +
            `${fmt(s.max, unit)} | ${(s.cv * 100).toFixed(0)}% | ${ours(s) ? '' : ratio(js?.median, s.median)} |` +
            (jp ? ` ${ours(s) ? '' : ratio(jp.median, s.median)} |` : ''),
        );
      }
      if (group.some((s) => s.capped))
        lines.push(
          '',
          '† stopped at the time cap before the queue was empty; the rate counts the jobs finished by then.',
        );
    }
    lines.push('');
    if (js && workload !== 'cold-start') {
      for (const s of group) {
        if (ours(s)) continue;
        ratioRows.push(
          `| ${workload} | ${describe(params)} | ${label[s.contender]} | ${ratio(js.median, s.median)} | ` +
            `${jp ? ratio(jp.median, s.median) : '–'} | ${better} |`,
        );
      }
    }
  }
  if (ratioRows.length) {
    lines.push('## Ratios: jobsmith / peer (medians)', '');
    lines.push(
      '| workload | parameters | peer | jobsmith / peer | jobsmith (prefetch) / peer | |',
      '|---|---|---|---:|---:|---|',
    );
    lines.push(...ratioRows, '');
  }
  if (skipped.length) {
    lines.push('## Not measured', '');
    for (const s of skipped)
      lines.push(`- ${label[s.contender] ?? s.contender}, ${s.workload}: ${s.reason}`);
    lines.push('');
  }
  return lines.join('\n');
}
