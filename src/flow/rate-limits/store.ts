/** A rate limit from the config, checked: `limit` per `perMs`, with `burst` more at once. */
export interface RateLimitRule {
  name: string;
  limit: number;
  perMs: number;
  burst: number;
}

/** Keyed rate-limit state on one storage. (Placeholder: built by the rate-limit work.) */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by its store
export interface RateLimitStore {}
