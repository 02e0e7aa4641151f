import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import { useSession } from '../session';

interface Props {
  /** The button's text, also its accessible name unless `label` is given. */
  children: string;
  /** Accessible name when the text alone is ambiguous in a table: "Retry failed job 42". */
  label?: string;
  /** Runs on click; its error is shown next to the button. */
  action: () => Promise<unknown>;
  /** Called after `action` succeeded (reload the list). */
  done?: () => unknown;
  variant?: 'primary' | 'danger' | 'plain';
  /** Ask once more before running ("Confirm?" in place of the button). */
  confirm?: string;
  testId?: string;
}

/**
 * A button that writes (a POST). In read-only mode it does not exist at all: the server
 * refuses writes anyway, and a page without buttons says so plainly.
 */
export function ActionButton(props: Props) {
  const { readOnly } = useSession();
  const [busy, setBusy] = useState(false);
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  if (readOnly) return null;

  const run = async () => {
    setAsking(false);
    setBusy(true);
    setError(undefined);
    try {
      await props.action();
      await props.done?.();
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  if (asking) {
    return (
      <span class="confirm" role="group" aria-label={props.confirm}>
        <span>{props.confirm}</span>
        <button type="button" class="btn danger" onClick={run}>
          Yes
        </button>
        <button type="button" class="btn plain" onClick={() => setAsking(false)}>
          No
        </button>
      </span>
    );
  }
  return (
    <span class="action">
      <button
        type="button"
        class={`btn ${props.variant ?? 'plain'}`}
        aria-label={props.label}
        data-testid={props.testId}
        disabled={busy}
        onClick={() => (props.confirm ? setAsking(true) : void run())}
      >
        {busy ? '…' : props.children}
      </button>
      {error && (
        <span class="action-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
