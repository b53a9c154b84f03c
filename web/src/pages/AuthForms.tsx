import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { problemText, ApiError } from '../api/client.js';
import { useAuth } from '../state.js';

const FIELDS = ['name', 'email', 'password'] as const;
type Field = (typeof FIELDS)[number];

/** Sign in, or create the account: one form at a time, so every label on the page is unique. */
export function AuthForms({ intro }: { intro?: string }) {
  const auth = useAuth();
  const [mode, setMode] = useState<'signin' | 'create'>('signin');
  // A refusal about one field (a common password, a blank name, an email taken) is said under that field, which is
  // marked invalid and described by it; any other under the form.
  const [error, setError] = useState<{ text: string; field?: Field } | null>(null);
  const [busy, setBusy] = useState(false);
  // A refusal takes the focus (its field, or the message): the submit button was disabled while waiting and the
  // focus fell off it.
  const errorRef = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (error) (error.field ? document.getElementById(ids[error.field]) : errorRef.current)?.focus();
  }, [error]);
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  // The Idempotency-Key of this form's registration: one per submission of what the form holds, kept until the account
  // is made, so pressing Create account again after a lost answer (none came, a 5xx, or the sign-in after it failed)
  // is the same registration, answered with the account it made rather than "email taken". A refused one (400, 409)
  // kept no key on the server: the same form pressed again is refused alike. A field changed, or the other form,
  // makes the next press a new registration.
  const registerKey = useRef<string | null>(null);
  // A refusal said at a field was about what it held then: changed, the field is no longer marked. Left there, a fixed
  // email was still "Email must be an email address." (aria-invalid) while the browser's own check stopped the next
  // press over another field (a short password), so no answer came to take it away.
  const edit = (field: Field, set: (value: string) => void) => (e: { target: { value: string } }) => {
    set(e.target.value);
    registerKey.current = null;
    if (error?.field === field) setError(null);
  };
  const ids = { name: useId(), email: useId(), password: useId(), hint: useId() };
  // Switching between the two forms (the button under them) puts the focus on the new form's first field: left on
  // the button, a keyboard user was under a form that had changed above, and heard nothing of the change.
  const switched = useRef(false);
  useEffect(() => {
    if (switched.current) document.getElementById(mode === 'create' ? ids.name : ids.email)?.focus();
  }, [mode]);
  /** The props that tie a field to its refusal, and the refusal written under it. */
  const fieldError = (field: Field) =>
    error?.field === field
      ? {
          props: { 'aria-invalid': true, 'aria-describedby': `${field === 'password' && mode === 'create' ? `${ids.hint} ` : ''}${ids[field]}-error` },
          text: (
            <p id={`${ids[field]}-error`} className="error" role="alert">
              {error.text}
            </p>
          ),
        }
      : { props: {}, text: null };

  // Also guards the gap before React re-renders the button as busy (a double press, Enter held in a field).
  const sending = useRef(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (sending.current) return;
    sending.current = true;
    setBusy(true);
    setError(null);
    try {
      if (mode === 'signin') await auth.signIn(email, password);
      else {
        registerKey.current ??= crypto.randomUUID();
        await auth.createAccount(name, email, password, registerKey.current);
        registerKey.current = null;
      }
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0;
      const paths = err instanceof ApiError && status === 400 ? new Set((err.problem?.errors ?? []).map((e) => e.path.replace(/^\//, ''))) : new Set<string>();
      const [only] = paths;
      const field = status === 409 && mode === 'create' ? 'email' : paths.size === 1 && FIELDS.includes(only as Field) ? (only as Field) : undefined;
      // A 5xx is the user service down or slow: the gateway's "The user service is unavailable" is the platform's
      // word, not the shop's.
      setError({
        field,
        text:
          status === 401
            ? 'Email or password is wrong.'
            : status === 409
              ? 'An account with this email exists already: sign in instead.'
              : status === 429
                ? 'Too many attempts; please wait a few minutes.'
                : status >= 500
                  ? `The shop could not ${mode === 'signin' ? 'sign you in' : 'create your account'} just now: it is not answering. Please try again in a moment.`
                  : err instanceof ApiError
                    ? problemText(err.problem)
                    : 'The shop could not be reached; please try again.',
      });
    } finally {
      sending.current = false;
      setBusy(false);
    }
  }

  return (
    <section className="auth panel" aria-labelledby={`${ids.hint}-h`}>
      <h2 id={`${ids.hint}-h`}>{mode === 'signin' ? 'Sign in' : 'Create account'}</h2>
      {intro && <p>{intro}</p>}
      <form onSubmit={(e) => void submit(e)} noValidate={false}>
        {mode === 'create' && (
          <div className="field">
            <label htmlFor={ids.name}>Name</label>
            <input id={ids.name} value={name} onChange={edit('name', setName)} required maxLength={100} autoComplete="name" {...fieldError('name').props} />
            {fieldError('name').text}
          </div>
        )}
        <div className="field">
          <label htmlFor={ids.email}>Email</label>
          <input id={ids.email} type="email" value={email} onChange={edit('email', setEmail)} required autoComplete="email" {...fieldError('email').props} />
          {fieldError('email').text}
        </div>
        <div className="field">
          <label htmlFor={ids.password}>Password</label>
          <input
            id={ids.password}
            type="password"
            value={password}
            onChange={edit('password', setPassword)}
            required
            minLength={8}
            maxLength={128}
            autoComplete={mode === 'signin' ? 'current-password' : 'new-password'}
            aria-describedby={mode === 'create' ? ids.hint : undefined}
            {...fieldError('password').props}
          />
          {mode === 'create' && (
            <p id={ids.hint} className="hint">
              At least 8 characters; spaces are fine. Not a common password or your email.
            </p>
          )}
          {fieldError('password').text}
        </div>
        {error && !error.field && (
          <p className="error" role="alert" tabIndex={-1} ref={errorRef}>
            {error.text}
          </p>
        )}
        {/* Busy, it keeps the focus (aria-disabled; submit ignores a press meanwhile) and is heard as "Signing in…":
            disabled, it dropped the focus to the page's body until the answer came. */}
        <button type="submit" className="primary" aria-disabled={busy || undefined}>
          {busy ? (mode === 'signin' ? 'Signing in…' : 'Creating account…') : mode === 'signin' ? 'Sign in' : 'Create account'}
        </button>
      </form>
      <p className="switch">
        {mode === 'signin' ? 'New here? ' : 'Have an account? '}
        <button
          type="button"
          className="link-button"
          onClick={() => {
            switched.current = true;
            setMode(mode === 'signin' ? 'create' : 'signin');
            setError(null);
            registerKey.current = null;
          }}
        >
          {mode === 'signin' ? 'Create an account instead' : 'Use an existing account'}
        </button>
      </p>
    </section>
  );
}
