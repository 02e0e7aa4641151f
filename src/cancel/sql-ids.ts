/**
 * The ids a SQL `jobs` table can hold (bigint keys), deduplicated, in the order given. Anything
 * else (a Redis id like `mail:7`, a typo) names no job there: it is left out, so the caller
 * reports it as not found instead of the database refusing the statement.
 */
export function sqlJobIds(ids: string[]): string[] {
  return [...new Set(ids.filter((id) => /^[1-9][0-9]{0,17}$/.test(id)))];
}
