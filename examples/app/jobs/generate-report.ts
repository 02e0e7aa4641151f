import { defineJob } from 'jobsmith';
import { z } from 'zod';
import { pretendWork } from './pretend-work.js';

/** Fails on its first attempt (a flaky upstream), then succeeds on the retry. */
export const generateReport = defineJob({
  name: 'report.generate',
  schema: z.object({ reportId: z.string() }),
  tries: 3,
  backoff: [1, 5, 30],
  timeout: 20,
  async handle(payload, ctx) {
    await pretendWork(200, ctx.signal);
    if (ctx.attempt === 1) throw new Error('Upstream returned 503 (demo: first attempt fails)');
    ctx.log.info('report generated', { reportId: payload.reportId, attempt: ctx.attempt });
  },
});
