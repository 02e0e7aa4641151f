import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Session } from './types';

/** GET ./api/session, loaded before the first page renders. */
export const SessionContext = createContext<Session>({ readOnly: true, version: '' });

export const useSession = () => useContext(SessionContext);
