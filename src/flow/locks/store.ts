/** Leased locks on one storage (withoutOverlapping). (Placeholder: built by the lock work.) */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by its store
export interface LockStore {}
