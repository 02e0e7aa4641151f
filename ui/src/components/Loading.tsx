/** Shown until a page's first load answers. */
export function Loading() {
  return (
    <p class="muted" aria-busy="true">
      Loading…
    </p>
  );
}
