import type { Knex } from 'knex';

/*
 * Chains (issue 18, src/workflows/chains/): jobs that run one after the other, each dispatched
 * when the one before succeeds. A chain's state lives here, in the app's SQL storage whatever
 * the queue driver (Redis setups keep failed_jobs in SQL too), so that a worker that crashes
 * mid-chain loses nothing: the step it held runs again and hands on to the next as before.
 *
 * - `connection`, `queue`: what chain().onConnection()/onQueue() named (null: the defaults);
 *   appended steps without a queue of their own go to `queue`.
 * - `steps`: JSON array of the steps as they are stored (name, queue, payload text, priority,
 *   tries, delay, tags), `ctx.chain.append/prepend` included once their step succeeded.
 * - `position`: index of the latest step known to be dispatched. It only grows, and only after
 *   the step's job is stored, so "position > i" proves step i+1 was dispatched.
 * - `edited_through`: the latest step whose append/prepend are written into `steps` (-1: none),
 *   so a step that runs again after a crash does not add its steps twice.
 * - `catch_step`: JSON of the catch step, null for none.
 * - `status`: running, done, failed (a step finally failed; catch dispatched), cancelled.
 * - `revision`: bumped by every write; each write is a compare-and-set on it, so two workers
 *   (a step run twice after a crash) never both move the chain on.
 * - `failed_index`: the step that failed, null otherwise.
 * Times are epoch ms.
 *
 * Numbered 0025: 0024 belongs to batches (the other part of issue 18).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('job_chains', (t) => {
    t.string('id', 36).primary();
    t.string('connection', 64).nullable();
    t.string('queue', 255).nullable();
    t.text('steps').notNullable();
    t.integer('position').notNullable().defaultTo(0);
    t.integer('edited_through').notNullable().defaultTo(-1);
    t.text('catch_step').nullable();
    t.string('status', 16).notNullable().defaultTo('running');
    t.integer('failed_index').nullable();
    t.integer('revision').notNullable().defaultTo(0);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('job_chains');
}
