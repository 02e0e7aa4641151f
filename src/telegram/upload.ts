/*
 * Local files in a send: a `telegram.send` payload is JSON, so a file on the worker's disk is
 * named `{ path, filename? }` where the Bot API takes an InputFile (a photo, a document, a media
 * group's `media`), and turned into grammY's InputFile just before the call. grammY then sends
 * the request as multipart/form-data (an album's files as `attach://<name>` parts). The file is
 * checked first: a missing or unreadable file is a TelegramFileError, a permanent failure,
 * since trying again will not make it appear.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { Permanent } from '../jobs/errors.js';

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
  ) {
    super(
      `Cannot upload ${path} to Telegram: ${reason}. Check that the file exists and the worker can read it (a relative path is from the worker's working directory).`,
    );
    this.name = 'TelegramFileError';
  }
}

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
  cwd = process.cwd(),
): Promise<Record<string, unknown>> {
  if (!hasLocalFiles(params)) return params;
  const { InputFile } = await import('grammy');
  const upload = async (file: LocalFile) => {
    const full = resolve(cwd, file.path);
    await readable(file.path, full);
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

async function readable(given: string, full: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await stat(full)).isFile();
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new TelegramFileError(given, code === 'ENOENT' ? 'no such file' : `${code ?? error}`);
  }
  if (!isFile) throw new TelegramFileError(given, 'not a regular file');
  try {
    await access(full, constants.R_OK);
  } catch {
    throw new TelegramFileError(given, 'not readable by this process');
  }
}
