import { prettyJson } from '../format';

/** A payload, a result or a stack trace, in a scrollable block. */
export function CodeBlock(props: { label: string; value: unknown; json?: boolean }) {
  const text = props.json ? prettyJson(props.value) : String(props.value ?? '');
  return (
    <section class="block" aria-label={props.label}>
      <h3>{props.label}</h3>
      <pre>{text}</pre>
    </section>
  );
}
