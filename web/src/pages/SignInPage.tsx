import { useEffect } from 'react';
import { Navigate, useSearchParams } from 'react-router';
import { Loading } from '../components.js';
import { WaitingForSession } from '../page-parts.js';
import { useAuth } from '../state.js';
import { AuthForms } from './AuthForms.js';
import { sameSitePath } from '../return-path.js';

export function SignInPage() {
  const { status } = useAuth();
  const [params] = useSearchParams();
  useEffect(() => {
    document.title = 'Sign in: Northwind Supply';
  }, []);
  if (status === 'loading') return <Loading />;
  if (status === 'signed-in') {
    return <Navigate to={sameSitePath(params.get('next'), location.origin)} replace />;
  }
  return (
    <div className="narrow-page">
      <h1>Your account</h1>
      {/* Not the form: this browser is signed in, the shop could not confirm it (Try again is in the alert above). */}
      {status === 'unreachable' ? <WaitingForSession /> : <AuthForms />}
    </div>
  );
}
