/*
 * Config sections an integration adds (`telegram`, `gpt`, `mail`, `tokens`). The core reads a
 * config's own fields; an integration's field is checked by the integration itself, and the
 * app layer hands the list to loadConfig (src/integrations.ts), so that nothing under
 * src/config, src/queue, src/worker or src/jobs imports an integration.
 */
import type { RateLimitSettings } from './define.js';

export interface ConfigSection {
  /** The config field the section owns, e.g. `telegram`. */
  key: string;
  /**
   * Checks the field's value when the config loads (undefined: the field is absent) and calls
   * `fail` with what is wrong and what is allowed (and, if it has one, a hint of its own), which
   * throws the config's ConfigError. May return a promise: a section whose checks load only
   * when the field is present (`alerts`).
   */
  check(value: unknown, fail: (problem: string, hint?: string) => never): void | Promise<void>;
  /**
   * Rate limits the integration declares when its field is present (Telegram's limits for its
   * sender); the config's own `rateLimits` entries of the same names win.
   */
  rateLimits?: Readonly<Record<string, RateLimitSettings>>;
}
