/**
 * Job tags: short strings to find a job by (`queue:list --tag`, `queue:cancel --tag`,
 * `queue:history --tag`). Given at dispatch (`dispatch(job, p, { tags })`) and by the job's
 * `tags(payload)`; both are merged, in that order, without duplicates.
 */

/** Tags per job, at most. */
export const MAX_TAGS = 20;
/** Characters per tag, at most. */
export const MAX_TAG_LENGTH = 100;
export const TAGS_HELP = `a list of at most ${MAX_TAGS} non-empty strings of at most ${MAX_TAG_LENGTH} characters`;

/** What is wrong with one tag, in words, or undefined. */
export function tagProblem(tag: unknown): string | undefined {
  if (typeof tag !== 'string' || tag === '')
    return `tag ${JSON.stringify(tag)} is not a non-empty string`;
  if (tag.length > MAX_TAG_LENGTH)
    return `tag "${tag.slice(0, 20)}…" is longer than ${MAX_TAG_LENGTH} characters`;
  return undefined;
}

/**
 * The job's tags: the definition's, then the dispatch's, deduplicated; undefined when there
 * are none (most jobs: no array is made for them). Throws `fail(problem)`'s error for a
 * value that is not a tag list.
 */
export function mergeTags(
  fromJob: unknown,
  fromDispatch: unknown,
  fail: (problem: string) => never,
): string[] | undefined {
  if (fromJob === undefined && fromDispatch === undefined) return undefined;
  const all: string[] = [];
  for (const [source, list] of [
    ["the job's tags()", fromJob],
    ['tags', fromDispatch],
  ] as const) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) fail(`${source} must be ${TAGS_HELP}, got ${typeof list}`);
    for (const tag of list as unknown[]) {
      const problem = tagProblem(tag);
      if (problem) fail(`${source}: ${problem}; use ${TAGS_HELP}`);
      if (!all.includes(tag as string)) all.push(tag as string);
    }
  }
  if (all.length > MAX_TAGS) fail(`a job has at most ${MAX_TAGS} tags, got ${all.length}`);
  return all.length > 0 ? all : undefined;
}

/** Tags as stored (JSON text), or null for none. */
export function storedTags(tags: string[] | undefined): string | null {
  return tags && tags.length > 0 ? JSON.stringify(tags) : null;
}

/** Stored tags (JSON text or null) back as a list; [] for none or unreadable text. */
export function readTags(text: unknown): string[] {
  if (typeof text !== 'string' || text === '') return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}
