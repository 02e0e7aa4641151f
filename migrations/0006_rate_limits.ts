import type { Knex } from 'knex';

/*
 * Keyed rate limits (GCRA, src/flow/rate-limits/store.ts), shared by every process on the
 * database. Times are epoch microseconds: the emission interval of a limit (1 s / 30) is rarely
 * a whole number of milliseconds.
 *
 * - `rate_limits`: one row per (limit name, key) that was ever asked for; `tat` is the key's
 *   theoretical arrival time, `backlog` the last slot handed to a denied job. A row whose two
 *   times have passed means the same as no row: takes sweep such rows now and then.
 * - `rate_limit_blocks`: a whole limit pushed back (an upstream's 429 for every key).
 * - On PostgreSQL, `jobsmith_rate_limit_take`: a take in one round trip (see its comments). The
 *   SQLite store runs the same steps in a synchronous transaction instead.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('rate_limits', (t) => {
    t.string('name', 190).notNullable();
    t.text('key').notNullable();
    t.bigInteger('tat').notNullable();
    t.bigInteger('backlog').notNullable();
    t.primary(['name', 'key']);
    // limits:list reads a limit's busiest keys; the sweep finds its idle ones.
    t.index(['name', 'tat'], 'rate_limits_tat_idx');
  });
  await knex.schema.createTable('rate_limit_blocks', (t) => {
    t.string('name', 190).primary();
    t.bigInteger('blocked_until').notNullable();
  });
  if (knex.client.config.client === 'pg') {
    await knex.raw(SWEEP_FUNCTION);
    await knex.raw(TAKE_FUNCTION);
  }
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'pg') {
    await knex.raw(
      'drop function if exists jobsmith_rate_limit_take(text[], text[], bigint[], bigint[], bigint[])',
    );
    await knex.raw('drop function if exists jobsmith_rate_limit_sweep(text, bigint)');
  }
  await knex.schema.dropTable('rate_limit_blocks');
  await knex.schema.dropTable('rate_limits');
}

/*
 * Takes one token from each (name, key), all or none, at the server clock. The caller passes
 * each pair once, sorted by name then key: rows are locked in that order (INSERT ... ON CONFLICT
 * DO UPDATE locks a row whether it made it or found it), so two takes never deadlock. Returns
 * one row: allowed, the 0-based index of the request that waits longest (when denied), and the
 * wait in microseconds: before going (let through, booked ahead) or before asking again.
 */
const TAKE_FUNCTION = `
create function jobsmith_rate_limit_take(
  p_names text[], p_keys text[], p_intervals bigint[], p_tolerances bigint[], p_graces bigint[]
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
  worst integer := 0;
  worst_wait bigint := 0;
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
  -- Denied: nothing is taken. The key that makes the job wait longest hands out its next slot,
  -- one interval after the last, so jobs denied together come back spread out, each when the
  -- key should have room; the other keys keep their slots for jobs that can use them (gcra.ts).
  for i in 1..n loop
    if free_at[i] > now_us then
      slot := greatest(backlogs[i], free_at[i]);
      if slot - now_us > worst_wait then
        worst := i;
        worst_wait := slot - now_us;
      end if;
    end if;
  end loop;
  update rate_limits set backlog = now_us + worst_wait + p_intervals[worst]
   where name = p_names[worst] and "key" = p_keys[worst];
  perform jobsmith_rate_limit_sweep(p_names[1], now_us);
  return query select false, worst - 1, worst_wait;
end
$$`;

/*
 * Now and then (one take in a hundred), forgets a few keys of a limit that have gone idle, both
 * times passed: such a row means the same as none. Called last, when the take's own rows hold
 * their new times, and skips rows another take holds.
 */
const SWEEP_FUNCTION = `
create function jobsmith_rate_limit_sweep(p_name text, p_now bigint) returns void
language plpgsql as $$
begin
  if random() < 0.01 then
    delete from rate_limits where ctid = any(array(
      select ctid from rate_limits
       where name = p_name and tat <= p_now and backlog <= p_now
       limit 100 for update skip locked));
  end if;
end
$$`;
