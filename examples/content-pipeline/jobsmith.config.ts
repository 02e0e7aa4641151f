/*
 * The content pipeline: collect posts from Telegram channels through a user account, rewrite
 * them with OpenAI, generate images and publish them to target channels.
 *
 * Queues, in priority order for one worker:
 *   run queue:work --queue rewrite,publish,collector,imagegen
 * (rewrite and publish high, collector medium, imagegen low). Their concurrency, tries, backoff
 * (2^n seconds) and timeouts come from .env (see .env.example); `run schedule:work` fires the
 * collector for each channel of PIPELINE_CHANNELS, and the images cleanup hourly.
 */
import { defineConfig, type QueueSettings } from 'jobsmith';
import { collect } from './jobs/collect.js';
import { republish } from './commands/republish.js';
import { publish } from './jobs/publish.js';
import { rewriterJobs } from './jobs/rewrite.js';
import { QUEUES, settings, type PipelineQueue } from './settings.js';
// Images and alerts.
import type { AlertConfig } from 'jobsmith/alerts';
import { failureRate } from 'jobsmith/alerts';
import { deleteImageCommand } from './commands/images-delete.js';
import { cleanupImages } from './jobs/images-cleanup.js';
import { imageJobs } from './jobs/images.js';
import { imageSettings } from './settings.js';
// Source media (the collector's downloads, jobs/media.ts).
import { mediaSettings } from './settings.js';

const s = settings();
// Read now, so a wrong PIPELINE_DOWNLOAD_MEDIA or PIPELINE_MEDIA_MAX_BYTES stops the config.
mediaSettings();

// Images and alerts: the cleanup's schedule entry, and an alert per pipeline queue
// when its failed attempts per ended attempt pass PIPELINE_ALERT_FAILURE_RATE over 10 minutes,
// told to PIPELINE_ADMIN_CHAT (no alert without it: nobody to tell).
const images = imageSettings();
const imageSchedule = [
  {
    name: 'pipeline.images-cleanup',
    cron: images.cleanupCron,
    job: cleanupImages,
    payload: {},
    withoutOverlapping: true,
  },
];
const alerts: AlertConfig[] = s.adminChat
  ? Object.values(QUEUES).map((queue) => ({
      name: `pipeline.${queue}-failing`,
      when: failureRate(queue).above(images.alertFailureRate).over('10m'),
      notify: [`telegram:${s.adminChat}`],
    }))
  : [];

function queue(name: PipelineQueue, timeout: number): QueueSettings {
  return {
    concurrency: s.concurrency[name],
    tries: s.tries[name],
    backoff: { type: 'exponential', base: s.backoffBase },
    timeout,
    // Finished jobs stay in job_history a week (jobsmith keeps no succeeded job by default), so
    // `run queue:history --tag post:ID` and the dashboard show every job a post ran.
    retain: { succeeded: '7d', failed: '7d', cancelled: '7d' },
  };
}

// The publisher (jobs/publish.ts): its job, and `run pipeline:republish ID`.
const publisherJobs = [publish];
const publisherCommands = [republish];

export default defineConfig({
  jobs: [collect, ...rewriterJobs, ...publisherJobs, ...imageJobs, cleanupImages],
  queues: {
    [QUEUES.collector]: queue('collector', s.timeouts.mtproto),
    // The gpt.complete jobs run here too (gpt.queue below): the OpenAI timeout bounds them.
    [QUEUES.rewrite]: queue('rewrite', s.timeouts.openai),
    // A publication whose Telegram is down waits PIPELINE_PUBLISH_RETRY_SECONDS, not 2^n s.
    [QUEUES.publish]: { ...queue('publish', s.timeouts.publish), backoff: s.publishRetrySeconds },
    [QUEUES.imagegen]: queue('imagegen', s.timeouts.openai),
  },
  // One gpt.complete per post, on the rewrite queue; OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL.
  gpt: { queue: QUEUES.rewrite },
  // Priorities: `run queue:work` with no --queue empties rewrite, then publish (high), then
  // collector (medium), then imagegen (low).
  workerQueues: [QUEUES.rewrite, QUEUES.publish, QUEUES.collector, QUEUES.imagegen],
  // The sender (TELEGRAM_BOT_TOKEN): the admin's notices and the publications, under
  // Telegram's limits, on the publish queue.
  telegram: { sendQueue: QUEUES.publish },
  // Reading channels through a user account (TELEGRAM_API_ID, TELEGRAM_API_HASH,
  // TELEGRAM_SESSION from `run telegram:login`): declares the flood-wait limit.
  channels: {},
  schedule: [
    ...s.channels.map((channel) => ({
      name: `pipeline.collect:${channel.replace(/^@/, '')}`,
      cron: s.collectCron,
      job: collect,
      payload: { channel },
      withoutOverlapping: true,
    })),
    ...imageSchedule,
  ],
  // `run pipeline:republish ID` (publisher) and `run pipeline:images:delete ID` (images).
  commands: [...publisherCommands, deleteImageCommand],
  // The pipeline's alerts (images and alerts block above).
  ...(alerts.length > 0 ? { alerts } : {}),
});
