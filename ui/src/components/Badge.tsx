const TONES: Record<string, string> = {
  succeeded: 'good',
  in_progress: 'info',
  reserved: 'info',
  running: 'info',
  sent: 'good',
  failed: 'bad',
  cancelled: 'muted',
  paused: 'warn',
  delayed: 'warn',
  stale: 'bad',
};

/** A status word with a color that matches it. */
export function Badge({ value }: { value: string }) {
  return <span class={`badge ${TONES[value] ?? ''}`}>{value.replace(/_/g, ' ')}</span>;
}
