import { UsageError } from '../errors.js';

/** The longest tag: as long as a job id or queue name may be. */
export const MAX_TAG_LENGTH = 190;

/** Parses --tag: any text of 1 to 190 characters without control characters. */
export function tagFlag(flag: string) {
  return (value: string): string => {
    // eslint-disable-next-line no-control-regex
    if (value.length === 0 || value.length > MAX_TAG_LENGTH || /[\u0000-\u001f]/.test(value)) {
      throw new UsageError(
        `${flag} must be a tag of 1 to ${MAX_TAG_LENGTH} characters without control characters, such as post:42; got ${JSON.stringify(value)}.`,
      );
    }
    return value;
  };
}
