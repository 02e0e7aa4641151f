/*
 * Where the collector reads channels: Telegram through GramJS (TELEGRAM_API_ID,
 * TELEGRAM_API_HASH, TELEGRAM_SESSION; `run telegram:login` makes the session), or, when
 * PIPELINE_CHANNELS_FILE is set, the JSON-file double the tests and the demo use. A new source
 * per attempt: a GramJS client is not reused after destroy().
 */
import type { ChannelSource } from 'jobsmith/channels';
import { readEnv } from './env.js';
import { settings } from './settings.js';

/** The ChannelSource for one collector attempt. */
export async function channelSource(): Promise<ChannelSource> {
  const file = settings().channelsFile;
  if (file) {
    // The double lives with the tests; only a development checkout has it.
    const double = '../../test/doubles/channels/index.ts';
    const { fileChannelSource } = (await import(double)) as {
      fileChannelSource(options: { file: string; account?: string }): ChannelSource;
    };
    return fileChannelSource({ file });
  }
  const { channelSettings, gramjsSource } = await import('jobsmith/channels');
  const env = readEnv();
  // The variables go in as the second argument: the first holds GramJS figures to override.
  return gramjsSource(
    channelSettings(
      {},
      {
        TELEGRAM_API_ID: env.TELEGRAM_API_ID,
        TELEGRAM_API_HASH: env.TELEGRAM_API_HASH,
        TELEGRAM_SESSION: env.TELEGRAM_SESSION,
      },
    ),
  );
}
