import type { App } from '../cli/app.js';

/** The integrations the dashboard shows pages for: those this app uses. */
export interface Features {
  telegram: boolean;
  gpt: boolean;
}

/**
 * Which integrations the app uses (its config section, or for GPT OPENAI_API_KEY), as the
 * worker decides whether to load their jobs (src/integrations.ts). That module loads only
 * here, at the first request: the core loads no integration statically.
 */
export async function appFeatures(app: App): Promise<Features> {
  const [{ INTEGRATION_JOBS }, { config }] = await Promise.all([
    import('../integrations.js'),
    app.config(),
  ]);
  const used = (job: string) =>
    INTEGRATION_JOBS.some((i) => i.names.includes(job) && i.used(config, app.env));
  return { telegram: used('telegram.send'), gpt: used('gpt.complete') };
}
