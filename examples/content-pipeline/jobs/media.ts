/*
 * The collector's media downloads: each media item of a new post is downloaded through the
 * ChannelSource (`downloadMedia`, MTProto upload.getFile) while the collector holds the session,
 * written to `<PIPELINE_STORAGE_DIR>/media/<post id>-<index>-<media id>.<ext>` (a temporary name,
 * then renamed, so a file under its final name is always whole) and recorded on that item of
 * pipeline_posts.media as `path`, which the publisher sends (publish-plan.ts, filesOf).
 *
 * An item the Bot API could not upload is not downloaded: over PIPELINE_MEDIA_MAX_BYTES (50 MB,
 * the Bot API's multipart limit), or a photo over 10 MB (the Bot API's photo limit;
 * https://core.telegram.org/bots/api#sending-files). It is marked `download: 'skipped'`. A download
 * that fails for this item alone (the file reference expired, the message is gone...) is marked
 * `download: 'failed'`; either way the post goes on without that file, and a marked item is
 * never tried again. What concerns the whole session is thrown for the job to handle, with
 * nothing marked: a flood wait (RetryAfter: the job comes back after it), a lost connection (a
 * retry), a dead session (Permanent), the attempt's timeout. The post is then stored but not yet
 * handed to the rewriter, and the cursor has not moved past it, so the next attempt (or run)
 * reads it again and downloads what is still missing (collect.ts).
 */
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { JobContext } from 'jobsmith';
import type { ChannelMedia, ChannelMessage, ChannelSource } from 'jobsmith/channels';
import { BOT_API_PHOTO_LIMIT, mediaSettings } from '../settings.js';
import { pipelineStore, type Post, type PostMedia } from '../store.js';

/** What the downloads of one run did, per media item. */
export interface MediaCounts {
  downloaded: number;
  skipped: number;
  failed: number;
}

/** One media item of a post and the channel message it came with. */
export interface MediaSource {
  message: ChannelMessage;
  media: ChannelMedia;
}

/**
 * Downloads the post's media that have neither a `path` nor a `download` mark, one by one, in
 * order; adds what it did to `counts`. `sources` are the post's messages' media as just read.
 * Throws what concerns the session or the attempt (see the module comment), and disk errors.
 */
export async function downloadMedia(
  ctx: Pick<JobContext, 'log' | 'signal'>,
  source: ChannelSource,
  post: Post,
  sources: readonly MediaSource[],
  counts: MediaCounts,
): Promise<void> {
  const store = await pipelineStore();
  const { maxBytes, dir } = mediaSettings();
  for (const [index, item] of post.media.entries()) {
    if (item.path || item.download) continue;
    const from = sources[index]?.media.id === item.id ? sources[index] : undefined;
    const mark = async (download: 'skipped' | 'failed', reason: string) => {
      await store.posts.updateMedia(post.id, index, item.id, { download, downloadError: reason });
      counts[download]++;
      ctx.log.warn(
        `pipeline: post ${post.id}: media ${index + 1} (${item.kind} ${item.id}) ${download}: ${reason}; the post goes on without it`,
        { postId: post.id, mediaId: item.id, download, reason },
      );
    };
    const limit = item.kind === 'photo' ? Math.min(maxBytes, BOT_API_PHOTO_LIMIT) : maxBytes;
    const over = (bytes: number) =>
      `${bytes} bytes, over the ${limit} a ${item.kind} may have (${limit === maxBytes ? 'PIPELINE_MEDIA_MAX_BYTES' : "the Bot API's photo limit"})`;
    if (!from) {
      await mark('failed', 'not among the messages read');
      continue;
    }
    if (item.size !== undefined && item.size > limit) {
      await mark('skipped', over(item.size));
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = await source.downloadMedia(from.message, from.media, ctx.signal);
    } catch (error) {
      if (concernsSession(error, ctx.signal)) throw error;
      await mark('failed', (error as Error).message);
      continue;
    }
    if (bytes.length > limit) {
      await mark('skipped', over(bytes.length));
      continue;
    }
    const file = path.join(dir, `${post.id}-${index}-${item.id}.${extensionOf(item)}`);
    await writeWhole(file, bytes);
    if (!(await store.posts.updateMedia(post.id, index, item.id, { path: file }))) {
      // The post was deleted meanwhile: its file has no owner.
      await unlink(file).catch(() => {});
      return;
    }
    counts.downloaded++;
  }
}

/** Writes `bytes` under a temporary name, then renames it: the final name is always whole. */
async function writeWhole(file: string, bytes: Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.part`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
}

/** Errors of jobsmith/channels that concern the session, not one file (by name: see errors.ts). */
const SESSION_ERRORS = new Set([
  'ChannelFloodWait',
  'ChannelSessionError',
  'ChannelConnectionError',
]);

/** Whether the error is the job's to handle rather than one file's failure. */
function concernsSession(error: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return true;
  const e = error as { name?: unknown; [key: symbol]: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  // RetryAfter and Permanent are recognised by jobsmith's global symbols (a jiti-loaded config
  // may hold its own copy of the classes).
  if (e[Symbol.for('jobsmith.retryAfter')] || e[Symbol.for('jobsmith.permanent')]) return true;
  return typeof e.name === 'string' && SESSION_ERRORS.has(e.name);
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/webm': 'webm',
  'audio/mpeg': 'mp3',
  'audio/ogg': 'ogg',
  'application/pdf': 'pdf',
  'application/zip': 'zip',
  'text/plain': 'txt',
};
const BY_KIND: Record<PostMedia['kind'], string> = { photo: 'jpg', video: 'mp4', document: 'bin' };

/** The file's extension: from its MIME type when known, else from its kind (photos are JPEG). */
export function extensionOf(media: Pick<PostMedia, 'kind' | 'mimeType'>): string {
  const mime = media.mimeType?.toLowerCase().split(';')[0]?.trim();
  if (mime && EXTENSIONS[mime]) return EXTENSIONS[mime];
  const subtype = mime?.split('/')[1];
  if (media.kind === 'document' && subtype && /^[a-z0-9]{1,5}$/.test(subtype)) return subtype;
  return BY_KIND[media.kind];
}
