/*
 * Local files in a send: a `telegram.send` payload is JSON, so a file on the worker's disk is
 * named `{ path, filename? }` where the Bot API takes an InputFile (a photo, a document, a media
 * group's `media`), and turned into grammY's InputFile just before the call. grammY then sends
 * the request as multipart/form-data (an album's files as `attach://<name>` parts). The file is
 * checked first: a missing or unreadable file is a TelegramFileError, a permanent failure,
 * since trying again will not make it appear.
 *
 * Anyone who can dispatch a `telegram.send` (app code, the dashboard, the HTTP API) names the
 * path, so a file is uploaded only from the upload folders (TELEGRAM_UPLOAD_DIRS; by default the
 * worker's working directory), links followed, and never a hidden one such as `.env`
 * (src/util/local-files.ts): a send cannot post the app's secrets to a chat.
 */
import { basename } from 'node:path';
import { Permanent } from '../jobs/errors.js';
import { checkLocalFile, dirsOf } from '../util/local-files.js';

/** A file on the sending worker's disk; a relative `path` is from its working directory. */
export interface LocalFile {
  path: string;
  /** The name Telegram shows (a document's file name). @defaultValue the path's base name */
  filename?: string;
}

/**
 * Parameters that take an InputFile in the Bot API's send methods
 * (https://core.telegram.org/bots/api#inputfile).
 */
export const FILE_FIELDS: readonly string[] = [
  'photo',
  'video',
  'document',
  'audio',
  'animation',
  'voice',
  'video_note',
  'sticker',
  'thumbnail',
];

/** A local file of a send could not be read. Permanent: a retry would not find it either. */
export class TelegramFileError extends Permanent {
  constructor(
    /** The path as the payload gave it. */
    readonly path: string,
    reason: string,
    /** The fix; the default suits a missing or unreadable file. */
    hint = "Check that the file exists and the worker can read it (a relative path is from the worker's working directory).",
  ) {
    super(`Cannot upload ${path} to Telegram: ${reason}.${hint ? ` ${hint}` : ''}`);
    this.name = 'TelegramFileError';
  }
}

/** Where local files are read from. */
export interface UploadOptions {
  /** What a relative path is relative to. @defaultValue process.cwd() */
  cwd?: string;
  /**
   * The folders files may be uploaded from (relative ones from `cwd`); a file elsewhere is a
   * TelegramFileError. @defaultValue [cwd]
   */
  dirs?: readonly string[];
}

/** TELEGRAM_UPLOAD_DIRS as a list (comma-separated); undefined when unset or empty. */
export const uploadDirsOf = dirsOf;

/** Whether `value` names a local file: `{ path: string, filename?: string }` and nothing else. */
export function isLocalFile(value: unknown): value is LocalFile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { path, filename, ...rest } = value as Record<string, unknown>;
  return (
    typeof path === 'string' &&
    (filename === undefined || typeof filename === 'string') &&
    Object.keys(rest).length === 0
  );
}

/** Whether the params name any local file (so grammY is asked to upload). */
export function hasLocalFiles(params: Record<string, unknown>): boolean {
  if (FILE_FIELDS.some((field) => isLocalFile(params[field]))) return true;
  const media = params.media;
  if (Array.isArray(media)) return media.some((item) => isLocalFile(mediaOf(item)));
  return isLocalFile(mediaOf(media));
}

function mediaOf(item: unknown): unknown {
  return typeof item === 'object' && item !== null
    ? (item as Record<string, unknown>).media
    : undefined;
}

/**
 * A copy of `params` with every local file (a FILE_FIELDS parameter, `media[i].media` of a
 * media group, `media.media` of editMessageMedia) replaced by grammY's InputFile. Params
 * without local files are returned as they are.
 * @throws TelegramFileError naming the path when a file is missing, not a file, or unreadable.
 */
export async function withUploads(
  params: Record<string, unknown>,
  options: UploadOptions = {},
): Promise<Record<string, unknown>> {
  if (!hasLocalFiles(params)) return params;
  const { InputFile } = await import('grammy');
  const upload = async (file: LocalFile) => {
    const { full, problem, refused } = await checkLocalFile(file.path, {
      ...options,
      setting: 'TELEGRAM_UPLOAD_DIRS',
    });
    // A refusal names its own fix.
    if (problem !== undefined)
      throw new TelegramFileError(file.path, problem, refused ? '' : undefined);
    return new InputFile(full, file.filename ?? basename(full));
  };
  const out: Record<string, unknown> = { ...params };
  for (const field of FILE_FIELDS) {
    const value = out[field];
    if (isLocalFile(value)) out[field] = await upload(value);
  }
  const swap = async (item: unknown) => {
    const media = mediaOf(item);
    return isLocalFile(media) ? { ...(item as object), media: await upload(media) } : item;
  };
  if (Array.isArray(out.media)) {
    const items: unknown[] = [];
    for (const item of out.media) items.push(await swap(item));
    out.media = items;
  } else if (out.media !== undefined) out.media = await swap(out.media);
  return out;
}
