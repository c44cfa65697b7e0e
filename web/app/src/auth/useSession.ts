import { useSyncExternalStore } from 'react';
import { session, type SessionState, type User } from './session';

export function useSession(): SessionState {
  return useSyncExternalStore(
    (fn) => session.subscribe(fn),
    () => session.current,
  );
}

/** The signed-in user (only rendered inside the signed-in shell). */
export function useUser(): User {
  const s = useSession();
  if (s.status !== 'signedIn') throw new Error('not signed in');
  return s.user;
}
