import { ApiError } from '../api';

/** Why a page could not load; the last data stays shown under it. */
export function ErrorNote({ error }: { error: Error | undefined }) {
  if (!error) return null;
  const unconfigured = error instanceof ApiError && error.code === 'not_configured';
  return (
    <p class={unconfigured ? 'note' : 'note error'} role="alert">
      {error.message}
    </p>
  );
}
