import { useEffect } from 'react';
import { Navigate, useSearchParams } from 'react-router';
import { Loading, WaitingForSession } from '../components.js';
import { useAuth } from '../state.js';
import { AuthForms } from './AuthForms.js';

/**
 * Where to go after signing in: a path of this site only. The browser reads `/\host` as `//host` (another
 * site), so a next with a backslash, a scheme or another origin goes to the shop's start instead.
 */
function sameSitePath(next: string | null): string {
  if (!next || !next.startsWith('/') || next.includes('\\')) return '/';
  try {
    const url = new URL(next, location.origin);
    return url.origin === location.origin ? `${url.pathname}${url.search}${url.hash}` : '/';
  } catch {
    return '/';
  }
}

export function SignInPage() {
  const { status } = useAuth();
  const [params] = useSearchParams();
  useEffect(() => {
    document.title = 'Sign in: Northwind Supply';
  }, []);
  if (status === 'loading') return <Loading />;
  if (status === 'signed-in') {
    return <Navigate to={sameSitePath(params.get('next'))} replace />;
  }
  return (
    <div className="narrow-page">
      <h1>Your account</h1>
      {/* Not the form: this browser is signed in, the shop could not confirm it (Try again is in the alert above). */}
      {status === 'unreachable' ? <WaitingForSession /> : <AuthForms />}
    </div>
  );
}
