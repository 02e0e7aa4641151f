/*
 * prom-client, loaded only here and only when telemetry is on. It is CommonJS, so it comes
 * through Node's own require (src/util/native-require.ts says why); the rest of src/telemetry
 * imports its types only. A missing install is not an error: telemetry stays off and says so.
 */
import type * as PromClient from 'prom-client';
import { requireNative } from '../util/native-require.js';

export type Prom = typeof PromClient;

/** A missing prom-client, and what to do about it, for messages. */
export const PROM_CLIENT_MISSING = 'prom-client is not installed';
export const PROM_CLIENT_INSTALL = 'Install it in the app: npm install prom-client@15.1.3.';

/** prom-client, or undefined when it is not installed (any other failure to load is thrown). */
export function loadPromClient(): Prom | undefined {
  try {
    return requireNative<Prom>('prom-client');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    // Only prom-client itself missing; a broken install (a dependency of it missing) is thrown.
    if (e?.code === 'MODULE_NOT_FOUND' && /['"]prom-client['"]/.test(e.message)) return undefined;
    throw error;
  }
}
