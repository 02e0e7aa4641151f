import type { Command } from 'commander';

/**
 * Every command, with what `run --help` shows about it. Modules load only when their command
 * runs, so `run purge:tokens` never pays for BullMQ or grammY. A summary is the command's own
 * description word for word, and the README's command tables repeat it
 * (test/docs.help.test.ts checks both).
 */
export interface CommandEntry {
  name: string;
  group: Group;
  summary: string;
  example: string;
  load: () => Promise<{ default: () => Command }>;
}

export const GROUPS = [
  'general',
  'queue',
  'schedule',
  'telegram',
  'gpt',
  'mail',
  'telemetry',
  'alerts',
  'db',
  'make',
] as const;
export type Group = (typeof GROUPS)[number];

export const GROUP_TITLES: Record<Group, string> = {
  general: 'General',
  queue: 'Queue',
  schedule: 'Schedule',
  telegram: 'Telegram',
  gpt: 'GPT',
  mail: 'Mail',
  telemetry: 'Telemetry',
  alerts: 'Alerts',
  db: 'Database',
  make: 'Generators',
};

export const COMMANDS: CommandEntry[] = [
  {
    name: 'queue:work',
    group: 'queue',
    summary: 'Process jobs from the queues',
    example: 'run queue:work --queue=high,default --concurrency=4',
    load: () => import('../../commands/queue-work.js'),
  },
  {
    name: 'queue:dispatch',
    group: 'queue',
    summary: 'Dispatch a job from the shell',
    example: `run queue:dispatch digest.send --payload '{"userId":1}'`,
    load: () => import('../../commands/queue-dispatch.js'),
  },
  {
    name: 'queue:size',
    group: 'queue',
    summary: 'Show pending, delayed, reserved and failed jobs per queue',
    example: 'run queue:size default mail --json',
    load: () => import('../../commands/queue-size.js'),
  },
  {
    name: 'queue:list',
    group: 'queue',
    summary: 'List the jobs of a queue by state or tag, a page at a time',
    example: 'run queue:list default --state delayed --page 2',
    load: () => import('../../commands/queue-list.js'),
  },
  {
    name: 'queue:cancel',
    group: 'queue',
    summary: 'Cancel waiting or running jobs (ids, or every job of a name in a queue)',
    example: 'run queue:cancel 42 43',
    load: () => import('../../commands/queue-cancel.js'),
  },
  {
    name: 'queue:show',
    group: 'queue',
    summary: 'Show one job, whatever its state',
    example: 'run queue:show 42 --json',
    load: () => import('../../commands/queue-show.js'),
  },
  {
    name: 'queue:promote',
    group: 'queue',
    summary: 'Run delayed jobs now',
    example: 'run queue:promote 42 43',
    load: () => import('../../commands/queue-promote.js'),
  },
  {
    name: 'queue:delete',
    group: 'queue',
    summary: 'Delete waiting jobs by id',
    example: 'run queue:delete 42 43',
    load: () => import('../../commands/queue-delete.js'),
  },
  {
    name: 'queue:failed',
    group: 'queue',
    summary: 'List failed jobs, oldest first (filters: queue, name, since)',
    example: 'run queue:failed --queue mail --since 2h --json',
    load: () => import('../../commands/queue-failed.js'),
  },
  {
    name: 'queue:retry',
    group: 'queue',
    summary: 'Push failed jobs back onto their queues (ids, uuids, or all with filters)',
    example: 'run queue:retry all --queue mail --since 2h',
    load: () => import('../../commands/queue-retry.js'),
  },
  {
    name: 'queue:forget',
    group: 'queue',
    summary: 'Delete one failed job',
    example: 'run queue:forget 42',
    load: () => import('../../commands/queue-forget.js'),
  },
  {
    name: 'queue:flush',
    group: 'queue',
    summary: 'Delete all failed jobs, or those older than some hours',
    example: 'run queue:flush --hours 48 --force',
    load: () => import('../../commands/queue-flush.js'),
  },
  {
    name: 'queue:prune-failed',
    group: 'queue',
    summary: 'Delete failed jobs older than some hours (for cron: never asks)',
    example: 'run queue:prune-failed --hours 168',
    load: () => import('../../commands/queue-prune-failed.js'),
  },
  {
    name: 'batch:list',
    group: 'queue',
    summary: 'List job batches, newest first, with their progress and counts',
    example: 'run batch:list --limit 20 --json',
    load: () => import('../../commands/batch-list.js'),
  },
  {
    name: 'batch:show',
    group: 'queue',
    summary: 'Show one job batch: progress, counts, callbacks and its failed jobs',
    example: 'run batch:show 0b7c9e5e-1d2f-4c43-9a51-2f7f5d1e8a10 --json',
    load: () => import('../../commands/batch-show.js'),
  },
  {
    name: 'batch:cancel',
    group: 'queue',
    summary: 'Cancel a job batch: its jobs not yet started are skipped when a worker claims them',
    example: 'run batch:cancel 0b7c9e5e-1d2f-4c43-9a51-2f7f5d1e8a10',
    load: () => import('../../commands/batch-cancel.js'),
  },
  {
    name: 'queue:retry-batch',
    group: 'queue',
    summary: "Push a job batch's failed jobs back onto their queues, as jobs of the batch",
    example: 'run queue:retry-batch 0b7c9e5e-1d2f-4c43-9a51-2f7f5d1e8a10',
    load: () => import('../../commands/queue-retry-batch.js'),
  },
  {
    name: 'queue:prune-batches',
    group: 'queue',
    summary: 'Delete job batches finished some hours ago (--unfinished, --cancelled: those too)',
    example: 'run queue:prune-batches --hours 48 --unfinished 72',
    load: () => import('../../commands/queue-prune-batches.js'),
  },
  {
    name: 'queue:stats',
    group: 'queue',
    summary: 'Show throughput, runtimes, retries, failure share and wait per queue or job',
    example: 'run queue:stats --since 24h --by job --queue mail',
    load: () => import('../../commands/queue-stats.js'),
  },
  {
    name: 'queue:clear',
    group: 'queue',
    summary: 'Delete the waiting (pending and delayed) jobs of a queue',
    example: 'run queue:clear --queue mail --force',
    load: () => import('../../commands/queue-clear.js'),
  },
  {
    name: 'queue:pause',
    group: 'queue',
    summary: 'Stop workers from taking jobs from queues (kept until queue:resume)',
    example: 'run queue:pause mail',
    load: () => import('../../commands/queue-pause.js'),
  },
  {
    name: 'queue:resume',
    group: 'queue',
    summary: 'Let workers take jobs from paused queues again',
    example: 'run queue:resume mail',
    load: () => import('../../commands/queue-resume.js'),
  },
  {
    name: 'queue:restart',
    group: 'queue',
    summary: 'Ask every worker to exit after its current jobs (supervisor starts new code)',
    example: 'run queue:restart',
    load: () => import('../../commands/queue-restart.js'),
  },
  {
    name: 'queue:monitor',
    group: 'queue',
    summary: 'Check queue sizes against a threshold; exit 1 when one is over',
    example: 'run queue:monitor default mail --max 100',
    load: () => import('../../commands/queue-monitor.js'),
  },
  {
    name: 'queue:paused',
    group: 'queue',
    summary: 'List paused queues: since when and who paused them',
    example: 'run queue:paused --json',
    load: () => import('../../commands/queue-paused.js'),
  },
  {
    name: 'workers:list',
    group: 'queue',
    summary: 'Show running workers: queues, uptime, last heartbeat, counts, current jobs',
    example: 'run workers:list --json',
    load: () => import('../../commands/workers-list.js'),
  },
  {
    name: 'breaker:list',
    group: 'queue',
    summary: 'Show each circuit breaker: state, failures in the window, opened at and until when',
    example: 'run breaker:list --json',
    load: () => import('../../commands/breaker-list.js'),
  },
  {
    name: 'breaker:reset',
    group: 'queue',
    summary: 'Close a circuit breaker and forget its failures',
    example: 'run breaker:reset openai',
    load: () => import('../../commands/breaker-reset.js'),
  },
  {
    name: 'limits:list',
    group: 'queue',
    summary: 'Show each rate limit, its busiest keys and when they free up',
    example: 'run limits:list --json',
    load: () => import('../../commands/limits-list.js'),
  },
  {
    name: 'limits:reset',
    group: 'queue',
    summary: 'Forget the state of a rate limit, or of one of its keys',
    example: 'run limits:reset telegram.chat 12345',
    load: () => import('../../commands/limits-reset.js'),
  },
  {
    name: 'schedule:run',
    group: 'schedule',
    summary: 'Run the schedule entries that are due (from cron, every minute)',
    example: 'run schedule:run',
    load: () => import('../../commands/schedule-run.js'),
  },
  {
    name: 'schedule:work',
    group: 'schedule',
    summary: 'Run the schedule in the foreground, sleeping to each slot (under supervisor)',
    example: 'run schedule:work --grace 60s',
    load: () => import('../../commands/schedule-work.js'),
  },
  {
    name: 'schedule:list',
    group: 'schedule',
    summary: 'List the schedule entries with their next run times',
    example: 'run schedule:list --next 3',
    load: () => import('../../commands/schedule-list.js'),
  },
  {
    name: 'schedule:test',
    group: 'schedule',
    summary: 'Run one schedule entry now, outside its schedule',
    example: 'run schedule:test nightly-report',
    load: () => import('../../commands/schedule-test.js'),
  },
  {
    name: 'longpoll',
    group: 'telegram',
    summary:
      "Receive a Telegram bot's updates, store them and dispatch a job per update (under supervisor)",
    example: 'run longpoll --bot support --allowed-updates message,callback_query',
    load: () => import('../../commands/longpoll.js'),
  },
  {
    name: 'telegram:updates',
    group: 'telegram',
    summary: 'List stored Telegram updates, newest first, with their status and error',
    example: 'run telegram:updates --status failed --json',
    load: () => import('../../commands/telegram-updates.js'),
  },
  {
    name: 'telegram:send',
    group: 'telegram',
    summary: 'Send a Telegram message through the rate-limited sender queue (--now: at once)',
    example: 'run telegram:send --chat 42 --text "Deploy finished"',
    load: () => import('../../commands/telegram-send.js'),
  },
  {
    name: 'telegram:schedule',
    group: 'telegram',
    summary: 'Schedule a Telegram message for a time; run scheduled:dispatch queues it when due',
    example: 'run telegram:schedule --chat 42 --text "Standup" --at 2026-12-01T09:00:00Z',
    load: () => import('../../commands/telegram-schedule.js'),
  },
  {
    name: 'telegram:scheduled',
    group: 'telegram',
    summary: 'List scheduled Telegram messages with their send time and status',
    example: 'run telegram:scheduled --status pending',
    load: () => import('../../commands/telegram-scheduled.js'),
  },
  {
    name: 'telegram:unschedule',
    group: 'telegram',
    summary: 'Cancel scheduled Telegram messages that have not been sent',
    example: 'run telegram:unschedule 12 13',
    load: () => import('../../commands/telegram-unschedule.js'),
  },
  {
    name: 'telegram:login',
    group: 'telegram',
    summary:
      'Sign a Telegram user account in (phone, code, 2FA password) and print the TELEGRAM_SESSION line for .env',
    example: 'run telegram:login --phone +4915123456789 --write-env',
    load: () => import('../../commands/telegram-login.js'),
  },
  {
    name: 'scheduled:dispatch',
    group: 'telegram',
    summary:
      'Queue the due scheduled Telegram messages, each once (--watch: keep doing it, under supervisor)',
    example: 'run scheduled:dispatch --limit=100',
    load: () => import('../../commands/scheduled-dispatch.js'),
  },
  {
    name: 'gpt:ask',
    group: 'gpt',
    summary:
      'Ask GPT from the shell: through the gpt queue, waiting for the answer (--now: directly)',
    example: 'run gpt:ask "Summarise: ..." --model gpt-4o-mini --json',
    load: () => import('../../commands/gpt-ask.js'),
  },
  {
    name: 'gpt:requests',
    group: 'gpt',
    summary: 'List GPT requests, newest first, with their status, tokens, latency and error',
    example: 'run gpt:requests --status failed --json',
    load: () => import('../../commands/gpt-requests.js'),
  },
  {
    name: 'test:email',
    group: 'mail',
    summary:
      'Send two test emails (password reset, account activation) through the mail queue and wait for them',
    example: 'run test:email --email=you@example.com',
    load: () => import('../../commands/test-email.js'),
  },
  {
    name: 'metrics:serve',
    group: 'telemetry',
    summary:
      'Serve queue sizes, failed jobs, breakers and rate-limit backlogs to Prometheus on /metrics',
    example: 'run metrics:serve --port 9464 --refresh 5s',
    load: () => import('../../commands/metrics-serve.js'),
  },
  {
    name: 'alerts:check',
    group: 'alerts',
    summary:
      'Check every alert once and notify those that fired or resolved; exit 1 while one fires (for cron)',
    example: 'run alerts:check',
    load: () => import('../../commands/alerts-check.js'),
  },
  {
    name: 'alerts:list',
    group: 'alerts',
    summary: "List the config's alerts with their condition, targets and last known state",
    example: 'run alerts:list --json',
    load: () => import('../../commands/alerts-list.js'),
  },
  {
    name: 'alerts:test',
    group: 'alerts',
    summary: 'Send a test notification of an alert to each of its targets, through the queue',
    example: 'run alerts:test telegram-backlog',
    load: () => import('../../commands/alerts-test.js'),
  },
  {
    name: 'about',
    group: 'general',
    summary: 'Show the effective configuration, secrets masked',
    example: 'run about --json',
    load: () => import('../../commands/about.js'),
  },
  {
    name: 'serve',
    group: 'general',
    summary: 'Serve the web dashboard and its JSON API',
    example: 'run serve --port 8080 --base-path /jobs',
    load: () => import('../../commands/serve.js'),
  },
  {
    name: 'doctor',
    group: 'general',
    summary: 'Check configuration, storage, Redis, migrations, logs and supervisor settings',
    example: 'run doctor --supervisor /etc/supervisor/conf.d/jobsmith.conf',
    load: () => import('../../commands/doctor.js'),
  },
  {
    name: 'key:generate',
    group: 'general',
    summary: 'Write a new APP_KEY to .env, the key of encrypted job payloads',
    example: 'run key:generate --show',
    load: () => import('../../commands/key-generate.js'),
  },
  {
    name: 'migrate',
    group: 'db',
    summary: 'Apply pending database migrations',
    example: 'run migrate',
    load: () => import('../../commands/migrate.js'),
  },
  {
    name: 'migrate:status',
    group: 'db',
    summary: 'List migrations and whether each is applied',
    example: 'run migrate:status --json',
    load: () => import('../../commands/migrate-status.js'),
  },
  {
    name: 'migrate:rollback',
    group: 'db',
    summary: 'Undo the last migrations (drops their tables)',
    example: 'run migrate:rollback --step 1 --force',
    load: () => import('../../commands/migrate-rollback.js'),
  },
  {
    name: 'purge:tokens',
    group: 'db',
    summary: "Delete the app's expired refresh tokens, in batches (for cron: never asks)",
    example: 'run purge:tokens --older-than 1d',
    load: () => import('../../commands/purge-tokens.js'),
  },
  {
    name: 'make:job',
    group: 'make',
    summary: 'Create a job file from a template and register it',
    example: 'run make:job SendDigest --queue mail --tries 5',
    load: () => import('../../commands/make-job.js'),
  },
  {
    name: 'queue:history',
    group: 'queue',
    summary: 'List finished jobs, newest first (filters: queue, name, status, since, tag)',
    example: 'run queue:history --queue mail --status failed --since 2h --json',
    load: () => import('../../commands/queue-history.js'),
  },
  {
    name: 'queue:prune-history',
    group: 'queue',
    summary: 'Delete finished jobs whose retention has run out (or all with --all)',
    example: 'run queue:prune-history',
    load: () => import('../../commands/queue-prune-history.js'),
  },
];

export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name);
}
