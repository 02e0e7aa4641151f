/**
 * Keyset paging: "Next page" follows the cursor the last answer gave; "First page" starts over.
 * There is no page count: counting would scan the table.
 */
export function Pager(props: {
  next: string | null | undefined;
  after: string | undefined;
  go: (after?: string) => void;
}) {
  if (!props.next && !props.after) return null;
  return (
    <nav class="pager" aria-label="Pages">
      <button
        type="button"
        class="btn plain"
        disabled={!props.after}
        onClick={() => props.go(undefined)}
      >
        First page
      </button>
      <button
        type="button"
        class="btn plain"
        disabled={!props.next}
        onClick={() => props.go(props.next ?? undefined)}
      >
        Next page
      </button>
    </nav>
  );
}
