/*
 * What a publication sends to each target: the post's rewritten text, and its files. Pure: no
 * storage, no Telegram; publish.ts runs the plan, publish-send.ts sends one step of it.
 *
 * - Text only: one sendMessage (a text over 4096 characters in several, cut at whitespace).
 * - One file: sendPhoto / sendVideo / sendDocument with the text as its caption.
 * - Several files: a media group (sendMediaGroup, 2 to 10 items) with the text as the caption of
 *   its first item; more than 10, or documents besides photos and videos (the Bot API does not
 *   mix them), make several groups, the caption on the first.
 * - A text over 1024 characters does not fit a caption: the files go without one, then the text.
 *
 * The Bot API's limits: https://core.telegram.org/bots/api#sendmessage (text 1-4096 characters),
 * #sendphoto (caption 0-1024), #sendmediagroup (2-10 items; documents and audio only with their
 * own kind).
 */
import type { LocalFile } from 'jobsmith/telegram';
import type { Post } from '../store.js';

/** Characters of a message's text (sendMessage). */
export const TEXT_LIMIT = 4096;
/** Characters of a caption (a photo's, a media group's first item's). */
export const CAPTION_LIMIT = 1024;
/** Items of one media group. */
export const ALBUM_LIMIT = 10;

/** A file to publish, on the publishing worker's disk. */
export interface PublishFile {
  kind: 'photo' | 'video' | 'document';
  path: string;
}

/** One Bot API call of the plan; `params` lack chat_id (publish-send.ts adds the target's). */
export interface PlannedSend {
  method: 'sendMessage' | 'sendPhoto' | 'sendVideo' | 'sendDocument' | 'sendMediaGroup';
  params: Record<string, unknown>;
}

/** The published text: the rewritten title, an empty line, the rewritten text (either may be empty). */
export function publicationText(post: Pick<Post, 'rewritten'>): string {
  const title = post.rewritten?.title.trim() ?? '';
  const text = post.rewritten?.text.trim() ?? '';
  return [title, text].filter(Boolean).join('\n\n');
}

/**
 * The files a post publishes: its generated image first (when it has one), then its media that
 * have a copy on disk (`path`, set by the collector: jobs/media.ts). Media known only by
 * their MTProto id cannot go through the Bot API and are left out.
 */
export function filesOf(post: Pick<Post, 'media'>, imagePath?: string | null): PublishFile[] {
  const files: PublishFile[] = imagePath ? [{ kind: 'photo', path: imagePath }] : [];
  for (const media of post.media as Array<Post['media'][number] & { path?: unknown }>) {
    if (typeof media.path === 'string' && media.path !== '')
      files.push({ kind: media.kind, path: media.path });
  }
  return files;
}

/** The sends of a publication, in order; empty when there is neither text nor a file. */
export function planPublication(text: string, files: readonly PublishFile[]): PlannedSend[] {
  const trimmed = text.trim();
  const caption = trimmed !== '' && trimmed.length <= CAPTION_LIMIT ? trimmed : undefined;
  const sends: PlannedSend[] = [];
  for (const group of groupsOf(files)) {
    // Only the first send carries the caption.
    const first = sends.length === 0 ? caption : undefined;
    sends.push(group.length === 1 ? single(group[0]!, first) : album(group, first));
  }
  if (caption === undefined || files.length === 0)
    for (const part of splitText(trimmed, TEXT_LIMIT))
      sends.push({ method: 'sendMessage', params: { text: part } });
  return sends;
}

const SINGLE = {
  photo: 'sendPhoto',
  video: 'sendVideo',
  document: 'sendDocument',
} as const;

function upload(file: PublishFile): LocalFile {
  return { path: file.path };
}

function single(file: PublishFile, caption: string | undefined): PlannedSend {
  return {
    method: SINGLE[file.kind],
    params: { [file.kind]: upload(file), ...(caption ? { caption } : {}) },
  };
}

function album(files: PublishFile[], caption: string | undefined): PlannedSend {
  return {
    method: 'sendMediaGroup',
    params: {
      media: files.map((file, i) => ({
        type: file.kind,
        media: upload(file),
        ...(i === 0 && caption ? { caption } : {}),
      })),
    },
  };
}

/** Photos and videos together, documents apart, each in runs of at most ALBUM_LIMIT. */
function groupsOf(files: readonly PublishFile[]): PublishFile[][] {
  const visual = files.filter((f) => f.kind !== 'document');
  const documents = files.filter((f) => f.kind === 'document');
  const groups: PublishFile[][] = [];
  for (const kind of [visual, documents])
    for (let i = 0; i < kind.length; i += ALBUM_LIMIT) groups.push(kind.slice(i, i + ALBUM_LIMIT));
  return groups;
}

/** `text` in parts of at most `limit` characters, cut at the last whitespace where there is one. */
export function splitText(text: string, limit: number): string[] {
  const parts: string[] = [];
  let rest = text.trim();
  // Bounded: each turn takes at least one character off `rest`.
  while (rest.length > limit) {
    const space = rest.lastIndexOf(' ', limit);
    const newline = rest.lastIndexOf('\n', limit);
    const cut = Math.max(space, newline) > 0 ? Math.max(space, newline) : limit;
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest !== '') parts.push(rest);
  return parts;
}
