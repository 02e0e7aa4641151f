/*
 * pipeline.images-cleanup: deletes the images no post keeps (unattached, or outdated: their
 * post is gone or points at another image) once they are older than PIPELINE_IMAGE_KEEP (24h),
 * rows first, then files, at most PIPELINE_IMAGE_CLEANUP_LIMIT a run (the next run takes the
 * rest). Scheduled by the config (PIPELINE_IMAGE_CLEANUP_CRON, hourly); an image its post
 * points at is never deleted.
 */
import { defineJob } from 'jobsmith';
import { z } from 'zod';
import { imageSettings, QUEUES } from '../settings.js';
import { pipelineStore } from '../store.js';
import { deleteImageFile } from './image-files.js';

export interface CleanupResult {
  /** Rows deleted. */
  deleted: number;
  /** Files deleted; a file already gone counts under `missing`. */
  files: number;
  missing: number;
  /** The run stopped at its limit: older images remain for the next run. */
  more: boolean;
}

export const cleanupImages = defineJob({
  name: 'pipeline.images-cleanup',
  queue: QUEUES.imagegen,
  schema: z.object({}),
  async handle(_payload, ctx): Promise<CleanupResult> {
    const { keepSeconds, cleanupLimit } = imageSettings();
    const store = await pipelineStore();
    const candidates = await store.images.outdated(Date.now() - keepSeconds * 1000, cleanupLimit);
    const result: CleanupResult = {
      deleted: 0,
      files: 0,
      missing: 0,
      more: candidates.length >= cleanupLimit,
    };
    for (const image of candidates) {
      if (ctx.signal.aborted) break;
      // Attached since it was listed: kept.
      if (!(await store.images.deleteOutdated(image.id))) continue;
      result.deleted++;
      const file = await deleteImageFile(image.path);
      if (file === 'deleted') result.files++;
      else if (file === 'missing') result.missing++;
      else
        ctx.log.warn(`pipeline: image ${image.id}: could not delete ${image.path}: ${file.error}`);
    }
    ctx.log.info(
      `pipeline: images cleanup deleted ${result.deleted} unattached images older than ${keepSeconds}s (${result.files} files, ${result.missing} already gone)${result.more ? '; more remain for the next run' : ''}`,
      { ...result },
    );
    return result;
  },
});
