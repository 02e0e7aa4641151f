import { defineJob } from 'jobsmith';
import { z } from 'zod';
import { pretendWork } from './pretend-work.js';

/** Always succeeds: the everyday job. */
export const welcomeEmail = defineJob({
  name: 'welcome.send',
  queue: 'default',
  schema: z.object({ userId: z.number().int(), email: z.string().email() }),
  tries: 3,
  timeout: 10,
  async handle(payload, ctx) {
    await pretendWork(150, ctx.signal);
    ctx.log.info('welcome email sent', { userId: payload.userId });
  },
});
