// What the admin pages say of their requests: why one failed, in words (failureText); what an action did
// (ActionMessage); a detail page before its data (notYet).
import { useEffect, useRef, type ReactNode } from 'react';
import { ApiError, namesNothing, problemText } from '../../api/client.js';
import { ErrorState, Loading } from '../../components.js';
import { asSentence, failureWhy } from '../../failure.js';
import { FieldError } from './product-fields.js';

/**
 * Why an admin call failed, in words: the service's problem (a 4xx), the form's own check, or as the storefront says
 * it (failureWhy): the shop had a problem (a 5xx: its status and request id to quote, not the gateway's title "Service
 * Unavailable"), did not answer in time (a timeout, a gateway's 504), or could not be reached (no answer came, never
 * the browser's "Failed to fetch").
 */
export function failureText(err: Error): string {
  if (err instanceof FieldError) return err.message;
  const why = failureWhy(err);
  if (!why) return problemText((err as ApiError).problem);
  return `${asSentence(why)}. Please try again in a moment.`;
}

/**
 * What an admin action did or why it failed. It takes the focus when it appears: the button that was pressed
 * is disabled while the request runs (or its form is remounted), and the focus would fall to the page's start.
 * Not a `quiet` one: the admin went on typing in a field while the request ran (a slow network), and the next
 * keys would have gone to the message instead; it is heard there as a status all the same.
 */
export function ActionMessage({ message, id }: { message: { kind: 'error' | 'ok'; text: ReactNode; quiet?: boolean }; id?: string }) {
  const ref = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!message.quiet) el?.focus();
    // Shown on a page just navigated to ("Archived ..."), it is then passed over by the layout, which focuses the
    // main region after this effect: taken back once, on the next frame.
    const frame = requestAnimationFrame(() => {
      if (document.activeElement === document.body || document.activeElement?.id === 'main') el?.focus();
    });
    return () => cancelAnimationFrame(frame);
  }, [message]);
  return (
    <p ref={ref} id={id} tabIndex={-1} className={message.kind} role={message.kind === 'error' ? 'alert' : 'status'}>
      {message.text}
    </p>
  );
}

/**
 * An admin detail page before its data: loading; not there (404: asking again gets the same answer, so a way back
 * instead of Try again); or failed (Try again).
 */
export function notYet(query: { isPending: boolean; error: Error | null; refetch: () => unknown }, loadingLabel: string, notFound: ReactNode) {
  if (query.isPending) return <Loading label={loadingLabel} />;
  if (namesNothing(query.error)) return notFound;
  return <ErrorState message={query.error ? failureText(query.error) : 'Could not load'} retry={() => void query.refetch()} />;
}
