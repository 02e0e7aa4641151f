/*
 * The content pipeline's storage: its own tables on the app's SQL database (SQLite by default,
 * PostgreSQL with DB_CONNECTION=pgsql and DATABASE_URL), created on first use.
 *
 *   pipeline_posts    one row per collected post: status queued → in_progress → succeeded |
 *                     failed | cancelled; stage collected → rewritten → imaged → published;
 *                     UNIQUE(channel, message_id) and UNIQUE(content_hash) deduplicate.
 *   pipeline_cursors  per channel, the highest message id stored.
 *   pipeline_images   generated image files, attached to a post or not (yet).
 *   pipeline_sent     what the publisher sent of a post, per target (message ids), so a retry
 *                     resends nothing and a cancelled publication can be deleted.
 *
 * Jobs use `pipelineStore()` (one per process, from the environment); tests and scripts can
 * open one on a knex of their own with `openPipelineStore({ knex })`.
 */
import type { Knex } from 'knex';
import { readEnv } from './env.js';
import { CursorsTable } from './store/cursors.js';
import { connectionProblem, pipelineKnex, type DbEnv } from './store/db.js';
import { ImagesTable } from './store/images.js';
import { PostsTable } from './store/posts.js';
import { ensurePipelineSchema } from './store/schema.js';
import { SentTable } from './store/sent.js';

export { contentHash } from './store/hash.js';
export { CURSORS, IMAGES, POSTS, ensurePipelineSchema } from './store/schema.js';
export { CursorsTable } from './store/cursors.js';
export { SENT } from './store/schema.js';
export { SentTable, type SentRecord } from './store/sent.js';
export { ImagesTable, type PipelineImage } from './store/images.js';
export {
  POST_STAGES,
  POST_STATUSES,
  PostsTable,
  type ListPostsOptions,
  type MediaPatch,
  type NewPost,
  type Post,
  type PostMedia,
  type PostPatch,
  type PostStage,
  type PostStatus,
  type Rewritten,
  type SaveOutcome,
  type UpdateGuard,
} from './store/posts.js';

export interface PipelineStore {
  knex: Knex;
  posts: PostsTable;
  cursors: CursorsTable;
  images: ImagesTable;
  sent: SentTable;
  /** Destroys the knex if the store opened it; a knex given to openPipelineStore stays open. */
  close(): Promise<void>;
}

export type OpenStoreOptions =
  | { knex: Knex }
  | {
      /** DB_CONNECTION, DB_DATABASE, DATABASE_URL. */
      env: DbEnv;
      /** Where a relative DB_DATABASE is found. @defaultValue process.cwd() */
      cwd?: string;
    };

/**
 * Opens the store on a knex (yours: it stays open on close()) or on the database the settings
 * name, and creates the tables if they are missing.
 */
export async function openPipelineStore(options: OpenStoreOptions): Promise<PipelineStore> {
  const own = !('knex' in options);
  const knex =
    'knex' in options ? options.knex : pipelineKnex(options.env, options.cwd ?? process.cwd());
  try {
    await ensurePipelineSchema(knex);
  } catch (error) {
    if (!own) throw error;
    await knex.destroy();
    throw connectionProblem(error, options.env);
  }
  return {
    knex,
    posts: new PostsTable(knex),
    cursors: new CursorsTable(knex),
    images: new ImagesTable(knex),
    sent: new SentTable(knex),
    close: async () => {
      if (own) await knex.destroy();
    },
  };
}

let shared: Promise<PipelineStore> | undefined;

/**
 * The process's store, opened on first use from the environment the way `run` reads it: the
 * process's variables over `.env` in the working directory.
 */
export function pipelineStore(): Promise<PipelineStore> {
  shared ??= openPipelineStore({ env: dbEnv(process.cwd()) }).catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

/** Closes the process's store (tests, scripts); the next pipelineStore() opens a new one. */
export async function closePipelineStore(): Promise<void> {
  const current = shared;
  shared = undefined;
  await (await current)?.close();
}

function dbEnv(cwd: string): DbEnv {
  const env = readEnv(cwd);
  return {
    DB_CONNECTION: env.DB_CONNECTION,
    DB_DATABASE: env.DB_DATABASE,
    DATABASE_URL: env.DATABASE_URL,
  };
}
