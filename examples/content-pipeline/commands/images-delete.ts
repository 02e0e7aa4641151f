/*
 * `run pipeline:images:delete ID`: deletes one unattached image (its row, then its file) now,
 * instead of waiting for the cleanup. An image its post points at is refused, naming the post.
 *
 * Exit codes: 0 deleted (a file already gone is said, not an error); 1 no such image, or it is
 * attached to a post; 2 an id that is not a positive whole number.
 */
import { defineCommand, JobsmithError, UsageError } from 'jobsmith';
import { deleteImageFile } from '../jobs/image-files.js';
import { openPipelineStore } from '../store.js';

export const deleteImageCommand = defineCommand({
  name: 'pipeline:images:delete',
  description: 'Delete an unattached generated image and its file',
  example: 'run pipeline:images:delete 42',
  arguments: [{ name: 'id', description: 'the image id (pipeline_images.id)' }],
  options: [{ flags: '--json', description: 'print { id, path, file } as JSON' }],
  async handler({ args, options, env, log }) {
    const raw = String(args.id);
    const id = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(id) || id < 1)
      throw new UsageError(
        `Invalid image id "${raw}": it takes a positive whole number (pipeline_images.id).`,
      );
    // Its own store from the command's environment (not the process's shared one): `run`
    // may run several commands in one process, each with its own settings.
    const store = await openPipelineStore({
      env: {
        DB_CONNECTION: env.DB_CONNECTION,
        DB_DATABASE: env.DB_DATABASE,
        DATABASE_URL: env.DATABASE_URL,
      },
    });
    try {
      const image = await store.images.find(id);
      if (!image)
        throw new JobsmithError(`No image ${id} in pipeline_images.`, {
          hint: 'Check the id; the hourly cleanup may have deleted it already.',
        });
      if (!(await store.images.deleteOutdated(id))) {
        const post = (await store.images.attachedTo(id)) ?? image.postId;
        throw new JobsmithError(
          `Image ${id} is attached to post ${post}: only an unattached image can be deleted.`,
          {
            hint: `Post ${post} uses it; it becomes unattached when the post gets another image or is deleted.`,
          },
        );
      }
      const file = await deleteImageFile(image.path);
      const said =
        file === 'deleted'
          ? `and its file ${image.path}`
          : file === 'missing'
            ? `(its file ${image.path} was already gone)`
            : `but not its file ${image.path}: ${file.error}`;
      log.info(`pipeline: image ${id} deleted by hand ${said}`, { imageId: id, path: image.path });
      if (options.json)
        console.log(
          JSON.stringify({
            id,
            path: image.path,
            file: typeof file === 'string' ? file : 'kept',
          }),
        );
      else console.log(`Deleted image ${id} ${said}.`);
      // The row is gone either way; a file that could not be deleted is a failure to report.
      return typeof file === 'string' ? 0 : 1;
    } finally {
      await store.close();
    }
  },
});
