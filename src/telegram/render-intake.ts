/*
 * What `run longpoll` prints and logs for the intake's events: a readable line (or a JSON line
 * with --json) on stdout and a log entry each. Outages are said once, when they start, and
 * again when Telegram answers.
 */
import { paint } from '../cli/output.js';
import type { Logger } from '../logging/logger.js';
import { redact } from '../logging/redact.js';
import type { Intake, IntakeEvent } from './intake.js';
import type { BotSettings } from './settings.js';

export interface IntakeOutput {
  stopping(signal: string): void;
  stopped(): void;
}

export function renderIntake(
  intake: Intake,
  bot: BotSettings,
  options: { json: boolean; log: Logger },
): IntakeOutput {
  const { json, log } = options;
  const name = `bot ${bot.name} (id ${bot.id})`;
  const write = (event: string, text: string, data: Record<string, unknown> = {}) => {
    process.stdout.write(
      json
        ? `${JSON.stringify({ time: new Date().toISOString(), event, bot: bot.name, ...data })}\n`
        : `${redact(text)}\n`,
    );
  };
  intake.on('event', (e: IntakeEvent) => {
    switch (e.type) {
      case 'waiting': {
        const until = e.leaseUntil
          ? ` (its lease runs until ${new Date(e.leaseUntil).toISOString()})`
          : '';
        const text = `Waiting: ${name} is polled by another poller, ${e.owner ?? 'unknown'}${until}; taking over if it stops.`;
        log.info({ bot: bot.name, owner: e.owner }, 'waiting for the other poller');
        return write('longpoll:waiting', paint.yellow(text), { owner: e.owner });
      }
      case 'started': {
        const from = e.offset === undefined ? 'the first unconfirmed update' : `offset ${e.offset}`;
        const first = e.dispatched > 0 ? `; dispatched ${e.dispatched} stored updates first` : '';
        log.info({ bot: bot.name, offset: e.offset, dispatched: e.dispatched }, 'polling');
        return write('longpoll:started', `Polling ${name} from ${from}${first}. Ctrl+C to stop.`, {
          offset: e.offset ?? null,
          dispatched: e.dispatched,
        });
      }
      case 'webhook:deleted':
        log.info({ bot: bot.name }, 'webhook deleted');
        return write('longpoll:webhook-deleted', `Deleted the webhook of ${name}.`);
      case 'batch': {
        const { type: _type, ...data } = e;
        void _type;
        log.info({ bot: bot.name, ...data }, 'batch stored');
        const dup = e.duplicates > 0 ? ` (${e.duplicates} already stored)` : '';
        write(
          'longpoll:batch',
          paint.dim(
            `Stored ${e.inserted} of ${e.received} updates${dup}, dispatched ${e.dispatched}; offset ${e.offset}.`,
          ),
          data,
        );
        if (e.replaced.length > 0) {
          const text = `Update ids ${e.replaced.join(', ')} of ${name} were stored before for other updates (Telegram restarted its ids): the old, finished rows were replaced.`;
          log.warn({ bot: bot.name, replaced: e.replaced }, text);
          if (!json) write('', paint.yellow(text));
        }
        if (e.clashes.length > 0) {
          const text = `Update ids ${e.clashes.join(', ')} of ${name} are stored for other updates that are not handled yet: the new updates were not stored.`;
          log.error({ bot: bot.name, clashes: e.clashes }, text);
          if (!json) write('', paint.red(text));
        }
        return;
      }
      case 'outage': {
        const text = `Cannot reach Telegram for ${name}: ${e.error}. Retrying with backoff; said once until it answers.`;
        log.warn({ bot: bot.name, error: e.error }, 'Telegram unreachable');
        return write('longpoll:outage', paint.yellow(text), { error: e.error });
      }
      case 'recovered': {
        const text = `Telegram answers again for ${name} after ${(e.downMs / 1000).toFixed(1)}s and ${e.failures} failed calls.`;
        log.info(
          { bot: bot.name, downMs: e.downMs, failures: e.failures },
          'Telegram reachable again',
        );
        return write('longpoll:recovered', paint.green(text), {
          downMs: e.downMs,
          failures: e.failures,
        });
      }
      case 'flood':
        log.warn({ bot: bot.name, retryAfterMs: e.retryAfterMs }, 'Telegram asked to wait (429)');
        return write(
          'longpoll:flood',
          paint.yellow(`Telegram asked ${name} to wait ${e.retryAfterMs / 1000}s (429).`),
          { retryAfterMs: e.retryAfterMs },
        );
      case 'lease:lost':
        log.warn({ bot: bot.name }, 'poller lease lost');
        return write(
          'longpoll:lease-lost',
          paint.yellow(`Another poller took over ${name} (this one's lease ran out); waiting.`),
        );
    }
  });
  return {
    stopping(signal) {
      log.info({ bot: bot.name, signal }, 'stopping');
      write('longpoll:stopping', paint.dim(`${signal}: stopping.`), { signal });
    },
    stopped() {
      log.info({ bot: bot.name }, 'stopped');
      write('longpoll:stopped', 'Stopped.');
    },
  };
}
