import { withApp } from '../src/cli/app.js';
import { durationFlag, globals, intFlag, newCommand, Option } from '../src/cli/command.js';
import { printJson, say } from '../src/cli/output.js';
import { UsageError } from '../src/errors.js';
import { askNow, askThroughQueue } from '../src/gpt/ask.js';
import { gptPayloadSchema } from '../src/gpt/payload.js';

export default function command() {
  return newCommand(
    'gpt:ask',
    'Ask GPT from the shell: through the gpt queue, waiting for the answer (--now: directly)',
    'run gpt:ask "Summarise: ..." --model gpt-4o-mini --json',
  )
    .argument('<prompt>', 'what to ask')
    .option('--model <model>', 'the model (default: OPENAI_MODEL)')
    .option('--system <text>', 'a system message before the prompt')
    .option(
      '--max-tokens <n>',
      'the most tokens the reply may have',
      intFlag('--max-tokens', { min: 1 }),
    )
    .addOption(
      // --wait is for a worker's answer: with --now there is none to wait for.
      new Option(
        '--now',
        'ask directly, outside the queue and its breaker; nothing is stored',
      ).conflicts('wait'),
    )
    .addOption(
      new Option('--wait <duration>', 'how long to wait for a worker to answer')
        .argParser(durationFlag('--wait'))
        .default(120_000, '2m'),
    )
    .option('--json', 'print the answer with its model, tokens and latency as JSON')
    .action(async (prompt: string, opts) =>
      withApp(globals(opts), async (app) => {
        const checked = gptPayloadSchema.safeParse({
          prompt,
          model: opts.model,
          system: opts.system,
          max_tokens: opts.maxTokens,
        });
        if (!checked.success)
          throw new UsageError(
            checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
          );
        if (opts.now) {
          const answer = await askNow(app, checked.data);
          if (opts.json) return printJson(answer);
          return say(answer.text);
        }
        const answer = await askThroughQueue(app, checked.data, opts.wait);
        if (opts.json) return printJson(answer);
        say(answer.text);
      }),
    );
}
