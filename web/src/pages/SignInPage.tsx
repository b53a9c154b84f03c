import { useEffect } from 'react';
import { useLocation, useNavigate, useSearchParams } from 'react-router';
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
  // Signed in: on to `next`, at each arrival here (a new location object). <Navigate> navigated in an effect of its
  // path alone, so arriving again (Back, Forward) before the last arrival's redirect was drawn, with the same `next`,
  // it went nowhere: the page stayed at /signin, drawing nothing.
  const navigate = useNavigate();
  const arrival = useLocation();
  const target = status === 'signed-in' ? sameSitePath(params.get('next'), location.origin) : null;
  useEffect(() => {
    if (target !== null) void navigate(target, { replace: true });
  }, [target, arrival, navigate]);
  if (status === 'loading') return <Loading />;
  if (target !== null) return null;
  return (
    <div className="narrow-page">
      <h1>Your account</h1>
      {/* Not the form: this browser is signed in, the shop could not confirm it (Try again is in the alert above). */}
      {status === 'unreachable' ? <WaitingForSession /> : <AuthForms />}
    </div>
  );
}
