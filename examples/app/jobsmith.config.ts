import { defineConfig } from 'jobsmith';
import { chargeInvoice } from './jobs/charge-invoice.js';
import { generateReport } from './jobs/generate-report.js';
import { sendReminder } from './jobs/send-reminder.js';
import { welcomeEmail } from './jobs/welcome-email.js';

export default defineConfig({
  jobs: [welcomeEmail, generateReport, sendReminder, chargeInvoice],
  queues: {
    billing: { concurrency: 1 },
  },
});
