import { dailyAt, defineConfig, weeklyOn } from 'jobsmith';
import { bot } from './bot.js';
import { chargeInvoice } from './jobs/charge-invoice.js';
import { generateReport } from './jobs/generate-report.js';
import { sendReminder } from './jobs/send-reminder.js';
import { welcomeEmail } from './jobs/welcome-email.js';

export default defineConfig({
  jobs: [welcomeEmail, generateReport, sendReminder, chargeInvoice],
  queues: {
    billing: { concurrency: 1 },
  },
  // The bot (bot.ts): `run longpoll` takes its updates (TELEGRAM_BOT_TOKEN), workers on the
  // queues telegram-updates and telegram run its handlers and send its replies.
  telegram: { handler: bot },
  // `run schedule:list` shows when these fire next; `run schedule:run` from cron (every
  // minute) or `run schedule:work` under supervisor fires them.
  schedule: [
    {
      name: 'weekly-report',
      cron: weeklyOn('monday', '08:00'),
      job: generateReport,
      payload: { reportId: 'weekly' },
      withoutOverlapping: true,
    },
    { name: 'prune-failed', cron: dailyAt('03:30'), command: 'queue:prune-failed --hours 168' },
  ],
});
