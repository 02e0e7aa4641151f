/*
 * The built-in GPT job an app gets when its config has a `gpt` section or OPENAI_API_KEY is
 * set, added to its registry by src/cli/app.ts (the core never imports this folder). `openai`
 * itself loads only when a request is made (client.ts).
 */
import type { App } from '../cli/app.js';
import type { GptConfig } from '../config/define.js';
import type { JobDefinition } from '../jobs/types.js';
import { gptCompleteJob } from './job.js';
import { gptSettings } from './settings.js';

/** The GPT jobs for this app and config. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function gptJobs(app: App, config: GptConfig | undefined): JobDefinition<any>[] {
  return [
    gptCompleteJob({
      db: () => app.db(),
      settings: gptSettings(app.env),
      config,
      jobNamed: async (name) => (await app.registry()).get(name),
    }),
  ];
}
