import type { QueueDriver } from '../queue/driver.js';
import type { FlowEvent } from './events.js';
import type { RateLimitRule } from './rate-limits/store.js';
import type { FlowControl, FlowStore } from './types.js';

/**
 * The FlowControl a worker (or the sync driver) hands its middleware. The driver's store is
 * opened on first use, so a worker whose jobs use no flow control never touches its tables.
 */
export function flowControl(
  driver: Pick<QueueDriver, 'flow'>,
  rateLimits: ReadonlyMap<string, RateLimitRule>,
  emit: (event: FlowEvent) => void,
): FlowControl {
  let store: FlowStore | undefined;
  return {
    get store() {
      return (store ??= driver.flow());
    },
    rateLimits,
    emit,
  };
}
