import { defineJob } from 'jobsmith';
import { z } from 'zod';

export const __EXPORT__ = defineJob({
  name: '__NAME__',
  queue: '__QUEUE__',
  schema: z.object({
    // Describe the payload; it is checked at dispatch and again when the job runs.
  }),
  tries: __TRIES__,
  backoff: [10, 30, 60],
  timeout: __TIMEOUT__,
  async handle(payload, ctx) {
    // ctx.signal aborts at the timeout: pass it to fetch() and other long calls.
    ctx.log.info('__NAME__ running', { attempt: ctx.attempt });
  },
});
