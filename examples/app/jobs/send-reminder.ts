import { defineJob } from 'jobsmith';
import { z } from 'zod';

/** Dispatched with a delay: it must not run before its time. */
export const sendReminder = defineJob({
  name: 'reminder.send',
  schema: z.object({ userId: z.number().int(), dueAt: z.string() }),
  async handle(payload, ctx) {
    const late = Date.now() - Date.parse(payload.dueAt);
    ctx.log.info('reminder sent', { userId: payload.userId, lateMs: late });
  },
});
