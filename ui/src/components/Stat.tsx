import { formatCount } from '../format';

/** One number on the overview, named for screen readers and tests (`stat-processed`). */
export function Stat(props: {
  name: string;
  label: string;
  value: number | undefined;
  tone?: 'bad';
}) {
  return (
    <div
      class={`stat ${props.tone === 'bad' && props.value ? 'bad' : ''}`}
      data-testid={`stat-${props.name}`}
    >
      <div class="stat-value">{formatCount(props.value)}</div>
      <div class="stat-label">{props.label}</div>
    </div>
  );
}
