import { hrefOf } from '../route';
import { useSession } from '../session';

interface Link {
  path: string;
  label: string;
  /** Shown only when the session's features say that integration is in use. */
  feature?: 'telegram' | 'gpt';
}

const LINKS: Link[] = [
  { path: '', label: 'Overview' },
  { path: 'queues', label: 'Queues' },
  { path: 'jobs', label: 'Jobs' },
  { path: 'failed', label: 'Failed' },
  { path: 'workers', label: 'Workers' },
  { path: 'schedule', label: 'Schedule' },
  { path: 'telegram', label: 'Telegram', feature: 'telegram' },
  { path: 'gpt', label: 'GPT', feature: 'gpt' },
];

/** The top bar: the pages, and whether this dashboard is read-only. */
export function Nav({ current }: { current: string }) {
  const session = useSession();
  return (
    <header class="top">
      <a class="brand" href={hrefOf('')}>
        jobsmith
      </a>
      <nav aria-label="Pages">
        {LINKS.filter((l) => !l.feature || session.features?.[l.feature]).map((l) => (
          <a
            key={l.path}
            href={hrefOf(l.path)}
            aria-current={current === l.path ? 'page' : undefined}
          >
            {l.label}
          </a>
        ))}
      </nav>
      <span class="session">
        {session.readOnly && (
          <span class="badge warn" data-testid="read-only">
            read-only
          </span>
        )}
        <span class="muted">v{session.version}</span>
      </span>
    </header>
  );
}
