import { useEffect, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';

/**
 * A row of filters that applies on submit: the values go into the URL's hash, so a filtered
 * list can be bookmarked and the back button works.
 */
export function FilterForm(props: {
  label: string;
  apply: (values: Record<string, string>) => void;
  children: ComponentChildren;
}) {
  const submit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const values: Record<string, string> = {};
    for (const [key, value] of form.entries()) values[key] = String(value).trim();
    props.apply(values);
  };
  return (
    <form class="filters" role="search" aria-label={props.label} onSubmit={submit}>
      {props.children}
      <button type="submit" class="btn primary">
        Search
      </button>
    </form>
  );
}

/** A labelled text input of a FilterForm. */
export function Field(props: {
  name: string;
  label: string;
  value: string | null;
  placeholder?: string;
}) {
  return (
    <label>
      <span>{props.label}</span>
      <input name={props.name} defaultValue={props.value ?? ''} placeholder={props.placeholder} />
    </label>
  );
}

/** A labelled choice of a FilterForm; kept in local state so a refresh does not reset it. */
export function Choice(props: {
  name: string;
  label: string;
  value: string | undefined;
  options: string[];
}) {
  const [value, setValue] = useState(props.value ?? '');
  useEffect(() => setValue(props.value ?? ''), [props.value]);
  const options =
    value && !props.options.includes(value) ? [value, ...props.options] : props.options;
  return (
    <label>
      <span>{props.label}</span>
      <select name={props.name} value={value} onChange={(e) => setValue(e.currentTarget.value)}>
        {options.map((o) => (
          <option key={o} value={o}>
            {o || 'any'}
          </option>
        ))}
      </select>
    </label>
  );
}
