import type { Knex } from 'knex';
import { up as createSlotsTake } from './0013_rate_limit_slots.js';

/*
 * Rate limits on PostgreSQL: a take reads the clock once it holds its keys' rows, not when the
 * call begins. Same signature and steps as migration 0013's jobsmith_rate_limit_take; only the
 * moment `now` is read moves. SQLite and Redis already read it inside their lock.
 *
 * Why: takes on one key queue on its row lock (three senders start together: ~30 takes on the
 * bot's key at once). A take that decided on the clock read before it waited treated a moment
 * already past as now. On a key free by then it went "now" in the past, and the take behind it
 * went at the real now, both at once, a burst the limit forbids; on a busy key it was told to
 * wait as long as it had already waited, and went that much late, bunched with the sends
 * after it.
 */
export async function up(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'pg') await knex.raw(TAKE_FUNCTION);
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'pg') {
    await knex.raw(
      'drop function if exists jobsmith_rate_limit_take(text[], text[], bigint[], bigint[], bigint[], boolean)',
    );
    await createSlotsTake(knex);
  }
}

/*
 * Migration 0013's take with `now_us` read after the loop that locks the rows (INSERT ... ON
 * CONFLICT DO UPDATE locks a row whether it made it or found it). Every comment of 0013 holds.
 */
const TAKE_FUNCTION = `
create or replace function jobsmith_rate_limit_take(
  p_names text[], p_keys text[], p_intervals bigint[], p_tolerances bigint[], p_graces bigint[],
  p_booked boolean
) returns table (allowed boolean, idx integer, wait_us bigint)
language plpgsql as $$
declare
  now_us bigint;
  n integer := coalesce(array_length(p_names, 1), 0);
  tats bigint[] := '{}';
  backlogs bigint[] := '{}';
  free_at bigint[] := '{}';
  t bigint;
  b bigint;
  blocked bigint;
  slot bigint;
  go_at bigint;
  worst integer := 1;
  moment bigint;
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
  end loop;
  -- Every row is held now: the decision's clock, never the one read before waiting for them.
  now_us := (extract(epoch from clock_timestamp()) * 1000000)::bigint;
  go_at := now_us;
  moment := now_us;
  for i in 1..n loop
    go_at := greatest(go_at, free_at[i]);
  end loop;
  if go_at - now_us <= (select min(g) from unnest(p_graces) as g) then
    for i in 1..n loop
      update rate_limits set tat = greatest(tats[i], go_at) + p_intervals[i]
       where name = p_names[i] and "key" = p_keys[i];
    end loop;
    perform jobsmith_rate_limit_sweep(p_names[1], now_us);
    return query select true, 0, go_at - now_us;
    return;
  end if;
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
