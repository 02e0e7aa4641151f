/**
 * Job ids of the SQL drivers are the `jobs` row's bigint id, in decimal. An id given by an
 * operator (`queue:show abc`) that cannot be one matches no job: it is left out before a
 * statement would fail on its cast.
 */
const SQL_ID = /^[1-9][0-9]{0,17}$/;

export function sqlIds(ids: readonly string[]): string[] {
  return [...new Set(ids.filter((id) => SQL_ID.test(id)))];
}
