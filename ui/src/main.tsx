import { render } from 'preact';
import { ApiError, getJson, setCsrfToken } from './api';
import { App } from './App';
import { SessionContext } from './session';
import './styles.css';
import type { Session } from './types';

const root = document.getElementById('app')!;

/** The session first (read-only? CSRF token? which integrations?), then the pages. */
async function start(): Promise<void> {
  try {
    const session = await getJson<Session>('session');
    setCsrfToken(session.csrfToken);
    render(
      <SessionContext.Provider value={session}>
        <App />
      </SessionContext.Provider>,
      root,
    );
  } catch (error) {
    const message = error instanceof ApiError ? error.message : String(error);
    render(
      <main>
        <h1>jobsmith</h1>
        <p class="note error" role="alert">
          The dashboard's API did not answer: {message}
        </p>
        <button type="button" class="btn primary" onClick={() => void start()}>
          Try again
        </button>
      </main>,
      root,
    );
  }
}

void start();
