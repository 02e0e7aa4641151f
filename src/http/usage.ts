import { UsageError } from '../errors.js';
import { HttpError } from './errors.js';

/**
 * Runs one of the CLI's argument checks (queueFlag, nameFlag, sinceFlag...) on a request value:
 * its UsageError, whose message names the value and what it accepts, becomes a 400.
 */
export function fromUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof UsageError) throw new HttpError(400, 'bad_request', error.message);
    throw error;
  }
}
