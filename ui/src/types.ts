/**
 * The API's shapes as the pages read them (docs/dashboard.md, "HTTP API"): the CLI's `--json`
 * shapes. Only the fields the pages use are listed.
 */

export interface Session {
  readOnly: boolean;
  version: string;
  /** Sent back as X-CSRF-Token on every POST. */
  csrfToken?: string;
  features?: { telegram: boolean; gpt: boolean };
}

/** A list page: its rows under one key, and the cursor of the next page (null: the last). */
export type Page<K extends string, T> = { [key in K]: T[] } & { next: string | null };

export interface QueueRow {
  queue: string;
  pending: number;
  delayed: number;
  reserved: number;
  failed: number;
  paused: boolean;
}

export interface SeriesPoint {
  minute: string;
  processed: number;
  succeeded: number;
  failed: number;
  runtimeAvgMs: number | null;
  runtimeP95Ms: number | null;
}

export interface Overview {
  queues: QueueRow[];
  failed: number;
  workers: number;
  totals: {
    processed: number;
    succeeded: number;
    failed: number;
    retried: number;
    cancelled: number;
  };
  series: SeriesPoint[];
}

/** A live job (`queue:list --json`, `queue:show` of a waiting or running job). */
export interface LiveJob {
  id: string;
  name: string;
  queue: string;
  status: 'queued' | 'in_progress';
  state: 'pending' | 'delayed' | 'reserved';
  priority: number;
  attempts: number;
  max_tries: number;
  available_at: string;
  created_at: string;
  last_error: string | null;
  payload: string;
  tags: string[];
  progress: unknown;
}

export type TimelineEntry =
  | { event: 'dispatched'; at: string }
  | {
      event: 'attempt';
      attempt: number;
      started_at: string | null;
      ended_at: string;
      outcome: string;
      error: string | null;
    };

/** A finished job (`queue:show --json` once history or failed_jobs holds it). */
export interface FinishedJob {
  source: 'history' | 'failed_jobs';
  id: string;
  connection: string;
  queue: string;
  name: string;
  status: string;
  attempts: number;
  payload: string;
  result: unknown;
  error: string | null;
  progress: unknown;
  tags: string[];
  finished_at: string;
  runtime_ms: number | null;
  timeline: TimelineEntry[];
}

export type AnyJob = LiveJob | FinishedJob;

export interface FailedJob {
  id: number;
  uuid: string;
  connection: string;
  queue: string;
  name: string;
  attempts: number;
  priority: number;
  reason: string;
  exception: string;
  payload: string;
  original_id: string | null;
  failed_at: string | number;
}

export interface WorkerRow {
  id: string;
  name: string;
  host: string;
  pid: number;
  connection: string;
  queues: string[];
  concurrency: number;
  started_at: string;
  uptime_ms: number;
  heartbeat_age_ms: number;
  stale: boolean;
  processed: number;
  failed: number;
  running: number;
  current_jobs: Array<{ id: string; name: string; queue: string; started_at: string }>;
}

export interface ScheduleEntry {
  name: string;
  cron: string;
  timezone: string | null;
  description: string | null;
  action: { type: 'command'; command: string } | { type: 'job'; job: string; queue: string };
  next: string[];
}

export interface GptRequest {
  id: string | number;
  jobId: string | null;
  queue: string | null;
  model: string;
  status: string;
  attempts: number;
  promptTokens: number | null;
  completionTokens: number | null;
  latencyMs: number | null;
  error: string | null;
  createdAt: string | null;
  finishedAt: string | null;
}

export interface TelegramMessage {
  id: string | number;
  bot: string;
  chatId: string | number;
  method: string;
  params: Record<string, unknown>;
  sendAt: string | null;
  status: string;
  sentAt: string | null;
  error: string | null;
}
