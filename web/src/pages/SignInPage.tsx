import { useEffect } from 'react';
import { Navigate, useSearchParams } from 'react-router';
import { Loading } from '../components.js';
import { useAuth } from '../state.js';
import { AuthForms } from './AuthForms.js';

export function SignInPage() {
  const { status } = useAuth();
  const [params] = useSearchParams();
  useEffect(() => {
    document.title = 'Sign in: Northwind Supply';
  }, []);
  if (status === 'loading') return <Loading />;
  if (status === 'signed-in') {
    const to = params.get('next') ?? '/';
    return <Navigate to={to.startsWith('/') && !to.startsWith('//') ? to : '/'} replace />;
  }
  return (
    <div className="narrow-page">
      <h1>Your account</h1>
      <AuthForms />
    </div>
  );
}
