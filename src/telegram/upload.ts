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
 * worker's working directory), after symbolic links are followed, and never a hidden file or
 * one in a hidden folder (`.env`, `.ssh/`): a send cannot post the app's secrets to a chat.
 */
import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
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

/**
 * TELEGRAM_UPLOAD_DIRS as a list: comma-separated folders, blanks dropped; undefined when unset
 * or empty (the default then applies: the working directory).
 */
export function uploadDirsOf(value: string | undefined): string[] | undefined {
  const dirs = (value ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  return dirs.length > 0 ? dirs : undefined;
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
  options: UploadOptions = {},
): Promise<Record<string, unknown>> {
  if (!hasLocalFiles(params)) return params;
  const cwd = options.cwd ?? process.cwd();
  const dirs = options.dirs ?? [cwd];
  const { InputFile } = await import('grammy');
  const upload = async (file: LocalFile) => {
    const full = resolve(cwd, file.path);
    await readable(file.path, full);
    await allowed(file.path, await realpath(full), dirs, cwd);
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

/**
 * Throws TelegramFileError unless `real` (symbolic links followed) lies in one of `dirs`, with
 * no hidden file or folder on the way down from it.
 */
async function allowed(
  given: string,
  real: string,
  dirs: readonly string[],
  cwd: string,
): Promise<void> {
  const roots: string[] = [];
  for (const dir of dirs) {
    const root = await realpath(resolve(cwd, dir)).catch(() => undefined);
    if (root !== undefined) roots.push(root);
  }
  const inside = roots
    .map((root) => relative(root, real))
    .filter((rel) => rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
  if (inside.length === 0)
    throw new TelegramFileError(
      given,
      `it is outside the folders files are uploaded from (${dirs.join(', ')}): put it in one of them, or add its folder to TELEGRAM_UPLOAD_DIRS (comma-separated)`,
    );
  if (inside.every((rel) => rel.split(sep).some((part) => part.startsWith('.'))))
    throw new TelegramFileError(
      given,
      'it is a hidden file or in a hidden folder (such as .env), which is never uploaded',
    );
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
