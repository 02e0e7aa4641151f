/** Circuit-breaker state on one storage. (Placeholder: built by the breaker work.) */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by its store
export interface BreakerStore {}
