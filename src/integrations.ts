/*
 * The integrations' config sections, for the app layer (src/cli/app.ts) to hand to loadConfig.
 * Only their settings modules load here (no grammY, openai or nodemailer): each integration
 * loads its jobs and its client library when a config or the environment uses it.
 */
import type { ConfigSection } from './config/sections.js';
import { checkGptConfig } from './gpt/settings.js';
import { checkMailConfig } from './mail/settings.js';
import { TELEGRAM_RATE_LIMITS } from './telegram/send-limits.js';
import { checkTelegramConfig } from './telegram/settings.js';
import { checkTokensConfig } from './tokens/settings.js';

export const INTEGRATION_SECTIONS: readonly ConfigSection[] = [
  { key: 'telegram', check: checkTelegramConfig, rateLimits: TELEGRAM_RATE_LIMITS },
  { key: 'tokens', check: checkTokensConfig },
  { key: 'gpt', check: checkGptConfig },
  { key: 'mail', check: checkMailConfig },
];
