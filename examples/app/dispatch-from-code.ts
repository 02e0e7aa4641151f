// How application code dispatches: connect once, dispatch, close on shutdown.
// Run from this folder with:  node --import jiti/register dispatch-from-code.ts
// (or npx jiti dispatch-from-code.ts, or compile it). test/examples.dispatch-from-code.test.ts
// runs it on SQLite, PostgreSQL and Redis.
import { connect } from 'jobsmith';
import { welcomeEmail } from './jobs/welcome-email.js';
import { sendReminder } from './jobs/send-reminder.js';

const queue = await connect(); // reads .env / DB_CONNECTION / QUEUE_CONNECTION like `run` does
try {
  const { id } = await queue.dispatch(welcomeEmail, { userId: 42, email: 'ada@example.com' });
  console.log(`dispatched welcome.send #${id}`);
  await queue.dispatch(
    sendReminder,
    { userId: 42, dueAt: new Date(Date.now() + 60_000).toISOString() },
    { delay: '1m' },
  );
  await queue.dispatchMany([
    { job: welcomeEmail, payload: { userId: 1, email: 'a@example.com' } },
    { job: welcomeEmail, payload: { userId: 2, email: 'b@example.com' } },
  ]);
} finally {
  await queue.close();
}
