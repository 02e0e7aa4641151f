import type { Knex } from 'knex';

/*
 * Rate limits: which slot a denied take hands out (src/flow/rate-limits/gcra.ts, decide). On
 * PostgreSQL, a take is now `jobsmith_rate_limit_take` with a sixth argument, p_booked; the
 * five-argument function of migration 0006 stays for workers of an older version. The tables
 * do not change; SQLite and Redis carry the same steps in their own code.
 *
 * Before: only the key that made the job wait longest, among the keys busy now, handed out its
 * next slot. Now the job comes back at the latest of its keys' next slots (when each frees,
 * and for a job not booked yet, no earlier than its backlog, even while the key is free), and
 * that key hands the slot out, as does every key with a longer interval (a chat's, when the
 * bot-wide key sets the moment).
 */
export async function up(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'pg') await knex.raw(TAKE_FUNCTION);
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'pg') {
    await knex.raw(
      'drop function if exists jobsmith_rate_limit_take(text[], text[], bigint[], bigint[], bigint[], boolean)',
    );
  }
}

/*
 * Takes one token from each (name, key), all or none, at the server clock. The caller passes
 * each pair once, sorted by name then key: rows are locked in that order (INSERT ... ON CONFLICT
 * DO UPDATE locks a row whether it made it or found it), so two takes never deadlock. Returns
 * one row: allowed, the 0-based index of the request whose key sets the moment to come back
 * (when denied), and the wait in microseconds: before going (let through, booked ahead) or
 * before asking again.
 */
const TAKE_FUNCTION = `
create function jobsmith_rate_limit_take(
  p_names text[], p_keys text[], p_intervals bigint[], p_tolerances bigint[], p_graces bigint[],
  p_booked boolean
) returns table (allowed boolean, idx integer, wait_us bigint)
language plpgsql as $$
declare
  now_us bigint := (extract(epoch from clock_timestamp()) * 1000000)::bigint;
  n integer := coalesce(array_length(p_names, 1), 0);
  tats bigint[] := '{}';
  backlogs bigint[] := '{}';
  free_at bigint[] := '{}';
  t bigint;
  b bigint;
  blocked bigint;
  slot bigint;
  go_at bigint := now_us;
  worst integer := 1;
  moment bigint := now_us;
begin
  for i in 1..n loop
    insert into rate_limits as r (name, "key", tat, backlog)
      values (p_names[i], p_keys[i], 0, 0)
      on conflict (name, "key") do update set tat = r.tat
      returning r.tat, r.backlog into t, b;
    select coalesce(max(blocked_until), 0) into blocked
      from rate_limit_blocks where name = p_names[i];
    tats[i] := t;
    backlogs[i] := b;
    -- The earliest moment the key lets a request through: tat - tau, and not before a push-back.
    free_at[i] := greatest(t - p_tolerances[i], blocked);
    go_at := greatest(go_at, free_at[i]);
  end loop;
  -- Let through now, or booked for the moment every key frees when that is within the grace
  -- (gcra.ts, GcraParams.graceUs): tat moves on from that moment.
  if go_at - now_us <= (select min(g) from unnest(p_graces) as g) then
    for i in 1..n loop
      update rate_limits set tat = greatest(tats[i], go_at) + p_intervals[i]
       where name = p_names[i] and "key" = p_keys[i];
    end loop;
    perform jobsmith_rate_limit_sweep(p_names[1], now_us);
    return query select true, 0, go_at - now_us;
    return;
  end if;
  -- Denied: nothing is taken. The job comes back at the latest of its keys' next slots: when
  -- each frees, and for a job not booked yet, no earlier than the slot after the last one the
  -- key handed out (gcra.ts, decide, says why).
  for i in 1..n loop
    slot := greatest(now_us, free_at[i]);
    if not p_booked then
      slot := greatest(slot, backlogs[i]);
    end if;
    if slot > moment then
      worst := i;
      moment := slot;
    end if;
  end loop;
  -- That key hands out the slot, and so does every key with a longer interval, whose slot the
  -- job uses then; a key with a shorter interval keeps its slots for jobs that can use them.
  for i in 1..n loop
    if i = worst or p_intervals[i] > p_intervals[worst] then
      update rate_limits set backlog = greatest(backlogs[i], moment + p_intervals[i])
       where name = p_names[i] and "key" = p_keys[i];
    end if;
  end loop;
  perform jobsmith_rate_limit_sweep(p_names[1], now_us);
  return query select false, worst - 1, moment - now_us;
end
$$`;
