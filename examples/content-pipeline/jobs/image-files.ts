/* Deleting an image's file, for the cleanup and `run pipeline:images:delete`. */
import { unlink } from 'node:fs/promises';

/** Deletes the file: 'deleted', 'missing' when it was already gone, or the error otherwise. */
export async function deleteImageFile(
  file: string,
): Promise<'deleted' | 'missing' | { error: string }> {
  try {
    await unlink(file);
    return 'deleted';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    return { error: (error as Error).message };
  }
}
