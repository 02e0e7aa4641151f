/**
 * Which local files a telegram.send may upload (src/telegram/upload.ts): only from the upload
 * folders (TELEGRAM_UPLOAD_DIRS, by default the working directory), symbolic links followed,
 * and never a hidden file or folder such as `.env`. Real files in a scratch folder.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TelegramFileError, uploadDirsOf, withUploads } from '../src/telegram/upload.js';

const root = mkdtempSync(path.join(tmpdir(), 'jobsmith-upload-'));
const cwd = path.join(root, 'app');
const outside = path.join(root, 'elsewhere');
mkdirSync(path.join(cwd, 'media'), { recursive: true });
mkdirSync(path.join(cwd, '.secrets'), { recursive: true });
mkdirSync(outside, { recursive: true });
writeFileSync(path.join(cwd, 'media', 'ok.png'), 'png');
writeFileSync(path.join(cwd, '.env'), 'TELEGRAM_BOT_TOKEN=secret');
writeFileSync(path.join(cwd, '.secrets', 'key.png'), 'key');
writeFileSync(path.join(outside, 'far.png'), 'far');
symlinkSync(path.join(outside, 'far.png'), path.join(cwd, 'media', 'link.png'));

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The params with `path` as the photo, uploaded from `cwd` with `dirs`. */
const photo = (file: string, dirs?: string[]) =>
  withUploads({ chat_id: 1, photo: { path: file } }, { cwd, dirs });

/** The TelegramFileError message `promise` rejects with. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TelegramFileError);
  return (error as Error).message;
}

describe('telegram uploads: which files a send may read', () => {
  it('uploads a file under the working directory, by a relative or an absolute path', async () => {
    for (const file of ['media/ok.png', path.join(cwd, 'media', 'ok.png')]) {
      const params = await photo(file);
      expect(params.photo).toMatchObject({ filename: 'ok.png' });
    }
  });

  it('refuses a file outside the upload folders, naming TELEGRAM_UPLOAD_DIRS', async () => {
    expect(await refusal(photo(path.join(outside, 'far.png')))).toContain(
      `it is outside the folders files are read from (${cwd}): put it in one of them, or add its folder to TELEGRAM_UPLOAD_DIRS`,
    );
    expect(await refusal(photo('../elsewhere/far.png'))).toContain('outside the folders');
  });

  it('follows a symbolic link before deciding: a link out of the folder is refused', async () => {
    expect(await refusal(photo('media/link.png'))).toContain('outside the folders');
  });

  it('never uploads a hidden file or a file in a hidden folder', async () => {
    for (const file of ['.env', '.secrets/key.png'])
      expect(await refusal(photo(file))).toContain(
        'it is a hidden file or in a hidden folder (such as .env), which is never read',
      );
  });

  it('uploads from the folders TELEGRAM_UPLOAD_DIRS lists, and only from them', async () => {
    const dirs = uploadDirsOf(` ${outside} , media ,`);
    expect(dirs).toEqual([outside, 'media']);
    expect((await photo(path.join(outside, 'far.png'), dirs)).photo).toMatchObject({
      filename: 'far.png',
    });
    expect((await photo('media/link.png', dirs)).photo).toMatchObject({ filename: 'link.png' });
    // The working directory is no longer one of them.
    writeFileSync(path.join(cwd, 'top.png'), 'top');
    expect(await refusal(photo('top.png', dirs))).toContain('outside the folders');
    expect(uploadDirsOf('')).toBeUndefined();
    expect(uploadDirsOf(undefined)).toBeUndefined();
  });
});
