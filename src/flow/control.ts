import type { QueueDriver } from '../queue/driver.js';
import { CachedAdmissions } from './breakers/admission-cache.js';
import type { FlowEvent } from './events.js';
import type { RateLimitRule } from './rate-limits/store.js';
import type { FlowControl, FlowStore } from './types.js';

/**
 * The FlowControl a worker (or the sync driver) hands its middleware. The driver's store is
 * opened on first use, so a worker whose jobs use no flow control never touches its tables.
 * Its breakers are read through CachedAdmissions: concurrent jobs share one read.
 */
export function flowControl(
  driver: Pick<QueueDriver, 'flow'>,
  rateLimits: ReadonlyMap<string, RateLimitRule>,
  emit: (event: FlowEvent) => void,
): FlowControl {
  let store: FlowStore | undefined;
  return {
    get store() {
      if (store) return store;
      const opened = driver.flow();
      return (store = { ...opened, breakers: new CachedAdmissions(opened.breakers) });
    },
    rateLimits,
    emit,
  };
}
